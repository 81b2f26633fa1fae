#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "bbsync_workspace.hpp"
#include "sandbox_server.hpp"
#include "temporary_directory.hpp"

namespace {

namespace json = boost::json;
using bbsync::integration_tests::bbsync_workspace;
using bbsync::integration_tests::sandbox_server;
using bbsync::integration_tests::temporary_directory;

constexpr const char* ingest_route = "/api/v1/ingest/sources/BlueButtonClaim/";

std::string text_of(const json::object& object, const char* key)
{
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::string endpoint_of(const json::object& ready, const char* name)
{
    const auto& host = ready.at(name).at("host").as_string();
    return std::string(host) + ":" + std::to_string(ready.at(name).at("port").to_number<int>());
}

// The sandbox's Data Cloud counters: the `datacloud` member of GET /_sandbox/state.
const json::object& datacloud_state(const json::object& state) { return state.at("datacloud").as_object(); }

std::int64_t stored_records(const json::object& state, const char* object_name)
{
    const auto& records = datacloud_state(state).at("records").as_object();
    const auto* count = records.if_contains(object_name);
    return count != nullptr ? count->to_number<std::int64_t>() : 0;
}

// Returns how often the active fault `spec` was applied, or -1 when it is not active.
std::int64_t times_applied(const json::object& state, const std::string& spec)
{
    for (const auto& fault : state.at("faults").as_array())
    {
        if (text_of(fault.as_object(), "spec") == spec)
        {
            return fault.at("applied").to_number<std::int64_t>();
        }
    }
    return -1;
}

// A sandbox and a bbsync configuration with claim data ingestion on, logging in to Data Cloud with
// the sandbox's Data Cloud user through its Salesforce host. Pages of 5 EOBs give every patient
// several pages, so claim records go out page by page.
struct claim_data_fleet
{
    claim_data_fleet(int patients, int eobs_per_patient)
        : sandbox(directory.path(), patients, eobs_per_patient),
          workspace(directory.path() / "bbsync", sandbox, "debug")
    {
        const auto& ready = sandbox.ready();
        workspace.append_config(
            "bluebuttonapi.eobEndpoint.count = 5\n"
            "claimData.claimDataIngestion = true\n"
            "claimData.cdpConfig.url = https://" +
            endpoint_of(ready, "salesforce") + "\n" +
            "claimData.cdpConfig.user = " + text_of(ready, "dc_username") + "\n" +
            "claimData.cdpConfig.password = " + text_of(ready, "dc_password") + "\n" +
            "claimData.cdpConfig.client_id = " + text_of(ready, "sf_client_id") + "\n" +
            "claimData.cdpConfig.client_secret = " + text_of(ready, "sf_client_secret") + "\n"
        );
        workspace.add_sandbox_patients(sandbox);
    }

    void set_faults(const std::vector<std::string>& specs) { sandbox.set_faults(specs); }

    int sync_once()
    {
        const auto run = workspace.run({"run", "--once"}, {}, std::chrono::seconds(120));
        UNSCOPED_INFO("run --once standard error: " << run.stderr_path);
        return run.exit_code;
    }

    // The claim data summaries of every job, for failure messages.
    std::string claim_data_summaries()
    {
        return workspace.sqlite("SELECT job_id, claim_data_status, claim_data_summary FROM sync_jobs").output;
    }

    temporary_directory directory{"bbsync-datacloud"};
    sandbox_server sandbox;
    bbsync_workspace workspace;
};

// Checks that every job Completed for Health Cloud and for Data Cloud, and that the sandbox's
// tenant stores one ClaimHeader per EOB with no rejected request.
void check_claim_data_completed(claim_data_fleet& fleet, int exit_code, std::size_t jobs_expected)
{
    INFO("claim data of the jobs:\n" << fleet.claim_data_summaries());
    CHECK(exit_code == 0);
    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == jobs_expected);
    for (const auto& job : jobs)
    {
        const auto& row = job.as_object();
        INFO("job " << text_of(row, "job_id"));
        CHECK(text_of(row, "status") == "Completed");
        CHECK(text_of(row, "claim_data_status") == "Completed");
        CHECK(row.at("claim_data_ingestion").as_bool());
    }

    const auto state = fleet.sandbox.state();
    const auto datacloud = datacloud_state(state);
    INFO("sandbox datacloud state: " << json::serialize(datacloud));
    CHECK(stored_records(state, "ClaimHeader") == state.at("eobs_total").to_number<std::int64_t>());
    CHECK(stored_records(state, "ClaimLineItem") > 0);
    CHECK(stored_records(state, "ClaimDiagnosis") > 0);
    CHECK(stored_records(state, "ClaimCoverage") > 0);
    CHECK(datacloud.at("rejections_total").to_number<std::int64_t>() == 0);
    CHECK(state.at("duplicates_total").to_number<std::int64_t>() == 0);
    // No bearer token went to a host it does not belong to: the core token stays on the
    // Salesforce host and the tenant token on the Data Cloud host.
    for (const auto& entry : state.at("foreign_authorization").as_array())
    {
        INFO("foreign_authorization of " << text_of(entry.as_object(), "host"));
        CHECK(entry.at("count").to_number<std::int64_t>() == 0);
    }
}

}  // namespace

TEST_CASE("claim records reach Data Cloud per object", "[integration][datacloud]")
{
    claim_data_fleet fleet(2, 12);
    const int exit_code = fleet.sync_once();
    check_claim_data_completed(fleet, exit_code, 2);

    // One core token and one exchange serve both jobs, because the tenant token is cached.
    const auto state = fleet.sandbox.state();
    CHECK(datacloud_state(state).at("tokens_issued").to_number<std::int64_t>() == 1);

    // The summary counts records per object and names no claim content.
    const auto summary = fleet.workspace.sqlite("SELECT claim_data_summary FROM sync_jobs LIMIT 1").output;
    INFO("summary: " << summary);
    CHECK(summary.find("ClaimHeader: 12 accepted, 0 rejected") != std::string::npos);
    CHECK(summary.find("Sent ") == 0);
}

TEST_CASE("Data Cloud 429 is retried and completes", "[integration][datacloud]")
{
    claim_data_fleet fleet(2, 12);
    const std::string spec = std::string("datacloud:") + ingest_route + ":first=2:status=429:retry_after=1";
    fleet.set_faults({spec});
    const int exit_code = fleet.sync_once();
    check_claim_data_completed(fleet, exit_code, 2);
    CHECK(times_applied(fleet.sandbox.state(), spec) == 2);
}

TEST_CASE("claim data stays off by default", "[integration][datacloud]")
{
    claim_data_fleet fleet(1, 3);
    fleet.workspace.append_config("claimData.claimDataIngestion = false\n");
    CHECK(fleet.sync_once() == 0);

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 1);
    const auto& row = jobs.front().as_object();
    CHECK(text_of(row, "status") == "Completed");
    CHECK(text_of(row, "claim_data_status") == "New");
    CHECK_FALSE(row.at("claim_data_ingestion").as_bool());
    const auto state = fleet.sandbox.state();
    CHECK(stored_records(state, "ClaimHeader") == 0);
    CHECK(datacloud_state(state).at("tokens_issued").to_number<std::int64_t>() == 0);
}

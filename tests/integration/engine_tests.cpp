#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
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

constexpr const char* practitioner_search_route = "/bundle/fhir-r4/v1/Practitioner";
constexpr const char* bundle_route = "/bundle/fhir-r4/v1/Bundle";
constexpr const char* collection_route = "/services/data/{v}/composite/sobjects/PatientSyncJob__c/JobId__c";
constexpr const char* single_upsert_route = "/services/data/{v}/sobjects/PatientSyncJob__c/JobId__c/{id}";

// A sandbox and a bbsync workspace whose patients are registered but not yet synced.
struct engine_fleet
{
    engine_fleet(int patients, int eobs_per_patient, const std::string& extra_config = {})
        : sandbox(directory.path(), patients, eobs_per_patient),
          workspace(directory.path() / "bbsync", sandbox, "info")
    {
        workspace.append_config("bluebuttonapi.eobEndpoint.count = 5\n" + extra_config);
        workspace.add_sandbox_patients(sandbox);
    }

    // Replaces the sandbox fault set, or clears it with an empty list.
    void set_faults(const std::vector<std::string>& specs) { sandbox.set_faults(specs); }

    int run(const std::vector<std::string>& arguments)
    {
        const auto result = workspace.run(arguments, {}, std::chrono::seconds(120));
        UNSCOPED_INFO("bbsync standard error: " << result.stderr_path);
        return result.exit_code;
    }

    std::string sf_patient_id(std::size_t index) const
    {
        return std::string(sandbox.patients().at(index).at("sf_patient_id").as_string());
    }

    temporary_directory directory{"bbsync-engine"};
    sandbox_server sandbox;
    bbsync_workspace workspace;
};

std::string text_at(const json::value& object, const char* key)
{
    const auto& value = object.at(key);
    return value.is_string() ? std::string(value.as_string()) : std::string();
}

std::int64_t number_in(const json::object& state, const char* section, const char* key)
{
    const auto* inner = state.at(section).if_object();
    const auto* value = inner != nullptr ? inner->if_contains(key) : nullptr;
    return value != nullptr && value->is_number() ? value->to_number<std::int64_t>() : 0;
}

std::int64_t number_in(const json::object& state, const char* key)
{
    return state.at(key).to_number<std::int64_t>();
}

// Returns how many requests the sandbox counted on `host` for `route`, over every method and
// status.
std::int64_t requests_to(const json::object& state, const std::string& host, const std::string& route)
{
    std::int64_t total = 0;
    for (const auto& entry : state.at("requests").as_array())
    {
        if (text_at(entry, "host") == host && text_at(entry, "route") == route)
        {
            total += entry.at("count").to_number<std::int64_t>();
        }
    }
    return total;
}

// Returns how many requests the sandbox counted on the Salesforce REST API (/services/data).
std::int64_t salesforce_data_requests(const json::object& state)
{
    std::int64_t total = 0;
    for (const auto& entry : state.at("requests").as_array())
    {
        if (text_at(entry, "host") == "salesforce" && text_at(entry, "route").starts_with("/services/data"))
        {
            total += entry.at("count").to_number<std::int64_t>();
        }
    }
    return total;
}

// Returns how often the active fault `spec` was applied, or -1 when it is not active.
std::int64_t times_applied(const json::object& state, const std::string& spec)
{
    for (const auto& fault : state.at("faults").as_array())
    {
        if (text_at(fault, "spec") == spec)
        {
            return fault.at("applied").to_number<std::int64_t>();
        }
    }
    return -1;
}

std::map<std::string, int> count_by(const json::array& rows, const char* key)
{
    std::map<std::string, int> counts;
    for (const auto& row : rows)
    {
        ++counts[text_at(row, key)];
    }
    return counts;
}

std::string sqlite_text(bbsync_workspace& workspace, const std::string& sql)
{
    const auto result = workspace.sqlite(sql);
    REQUIRE(result.exit_code == 0);
    auto text = result.output;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    {
        text.pop_back();
    }
    return text;
}

}  // namespace

TEST_CASE("rejected first entry ends the job right without duplicates", "[integration][engine]")
{
    engine_fleet fleet(1, 12);
    // The Bundle route only: Practitioner searches share the /bundle prefix.
    const std::string spec = "healthcloud:/bundle/fhir-r4/v1/Bundle:first=1:entry_400";
    fleet.set_faults({spec});
    CHECK(fleet.run({"run", "--once"}) == 0);

    auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 1);
    const auto summary = text_at(jobs[0], "summary");
    INFO("summary: " << summary);
    CHECK(summary.find("Entries answered HTTP 400 (invalid): 1") != std::string::npos);
    auto state = fleet.sandbox.state();
    CHECK(number_in(state, "duplicates_total") == 0);
    const auto encounters = number_in(state, "records", "Encounter");

    // The job is Completed exactly when every EOB reached Health Cloud. The rejected root stays
    // failed only when no later request of the job stored the same resource.
    const bool all_stored = encounters == number_in(state, "eobs_total");
    CHECK(text_at(jobs[0], "status") == (all_stored ? "Completed" : "PartiallyCompleted"));
    if (!all_stored)
    {
        CHECK(jobs[0].at("resources_failed").to_number<std::int64_t>() >= 1);
        CHECK(summary.find("Entries answered HTTP 424 (processing)") != std::string::npos);
    }

    // Resending after the fault stores what was missing and nothing twice.
    fleet.set_faults({});
    fleet.workspace.make_all_patients_due();
    CHECK(fleet.run({"run", "--once"}) == 0);
    jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 2);
    CHECK(text_at(jobs[0], "status") == "Completed");
    state = fleet.sandbox.state();
    CHECK(number_in(state, "records", "Encounter") == number_in(state, "eobs_total"));
    CHECK(number_in(state, "duplicates_total") == 0);
}

TEST_CASE("424 entries are resent once their root is stored", "[integration][engine]")
{
    // Every bundle's first entry is rejected, so a root that is first in one bundle and
    // repeated in a later one is stored by the later one, and its dependents are resent.
    engine_fleet fleet(1, 20);
    fleet.set_faults({"healthcloud:/bundle/fhir-r4/v1/Bundle:first=3:entry_400"});
    CHECK(fleet.run({"run", "--once"}) == 0);

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 1);
    const auto summary = text_at(jobs[0], "summary");
    INFO("summary: " << summary);
    const auto state = fleet.sandbox.state();
    CHECK(number_in(state, "duplicates_total") == 0);
    const bool all_stored = number_in(state, "records", "Encounter") == number_in(state, "eobs_total");
    CHECK(text_at(jobs[0], "status") == (all_stored ? "Completed" : "PartiallyCompleted"));
    // Nothing that Health Cloud confirmed is counted as failed, and nothing failed is counted as
    // written twice.
    CHECK(jobs[0].at("resources_written").to_number<std::int64_t>() > 0);
}

TEST_CASE("shared Practitioner is created once then found in the cache", "[integration][engine]")
{
    engine_fleet fleet(2, 6);

    // First patient: each Practitioner is searched once, then created.
    REQUIRE(fleet.run({"sync", "--patient", fleet.sf_patient_id(0)}) == 0);
    auto state = fleet.sandbox.state();
    const auto practitioners = number_in(state, "records", "Practitioner");
    const auto first_searches = requests_to(state, "healthcloud", practitioner_search_route);
    REQUIRE(practitioners >= 1);
    CHECK(first_searches == practitioners);
    const auto cached = sqlite_text(fleet.workspace, "SELECT count(*) FROM practitioner_ids");
    CHECK(cached == std::to_string(practitioners));

    // Second patient shares the Practitioners: no search for a cached NPI, no new record.
    REQUIRE(fleet.run({"sync", "--patient", fleet.sf_patient_id(1)}) == 0);
    state = fleet.sandbox.state();
    CHECK(number_in(state, "records", "Practitioner") >= practitioners);
    const auto new_practitioners = number_in(state, "records", "Practitioner") - practitioners;
    CHECK(requests_to(state, "healthcloud", practitioner_search_route) == first_searches + new_practitioners);
    CHECK(number_in(state, "duplicates_total") == 0);
    CHECK(number_in(state, "rejected_total") == 0);

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 2);
    for (const auto& job : jobs)
    {
        INFO("job " << text_at(job, "job_id") << ": " << text_at(job, "summary"));
        CHECK(text_at(job, "status") == "Completed");
    }
    const auto second_summary = text_at(jobs[0], "summary");
    INFO("second summary: " << second_summary);
    CHECK(second_summary.find("already in Health Cloud by id") != std::string::npos);
    CHECK(number_in(state, "records", "Encounter") == number_in(state, "eobs_total"));
}

TEST_CASE("several pending jobs go in one Collections upsert", "[integration][engine]")
{
    engine_fleet fleet(3, 3);
    REQUIRE(fleet.run({"run", "--once"}) == 0);

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 3);
    CHECK(count_by(jobs, "mirror_state")["mirrored"] == 3);
    const auto state = fleet.sandbox.state();
    CHECK(requests_to(state, "salesforce", collection_route) == 1);
    CHECK(requests_to(state, "salesforce", single_upsert_route) == 0);
    CHECK(number_in(state.at("sync_jobs").as_object(), "count") == 3);
}

TEST_CASE("request limit pauses Salesforce writes", "[integration][engine]")
{
    engine_fleet fleet(3, 3);
    // Every REST call returns REQUEST_LIMIT_EXCEEDED, as it does for an org past its daily limit.
    const std::string spec = "salesforce:/services/data:all:status=429";
    fleet.set_faults({spec});
    CHECK(fleet.run({"run", "--once"}) == 0);
    auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 3);
    CHECK(count_by(jobs, "status")["Completed"] == 3);
    CHECK(count_by(jobs, "mirror_state")["paused"] == 3);
    CHECK(sqlite_text(fleet.workspace, "SELECT count(*) FROM salesforce_pause") == "1");
    auto state = fleet.sandbox.state();
    // One Collections call met the limit, and the pass stopped there.
    CHECK(times_applied(state, spec) == 1);
    const auto bundles_before = requests_to(state, "healthcloud", bundle_route);
    const auto salesforce_before = salesforce_data_requests(state);

    // While paused, a job sends no bundle and its history names the pause.
    fleet.set_faults({});
    fleet.workspace.make_all_patients_due();
    fleet.run({"run", "--once"});
    jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 6);
    for (std::size_t i = 0; i < 3; ++i)
    {
        INFO("job " << text_at(jobs[i], "job_id") << ": " << text_at(jobs[i], "summary"));
        CHECK(text_at(jobs[i], "status") == "Failed");
        CHECK(text_at(jobs[i], "last_error_class") == "salesforce.paused");
        CHECK(text_at(jobs[i], "summary").find("paused until") != std::string::npos);
    }
    state = fleet.sandbox.state();
    CHECK(requests_to(state, "healthcloud", bundle_route) == bundles_before);
    CHECK(salesforce_data_requests(state) == salesforce_before);

    // Once the pause is over the outbox drains in one Collections call.
    REQUIRE(
        fleet.workspace.sqlite("UPDATE salesforce_pause SET paused_until = '2000-01-01T00:00:00.000Z'")
            .exit_code == 0
    );
    REQUIRE(
        fleet.workspace.sqlite("UPDATE mirror_outbox SET next_attempt_at = '2000-01-01T00:00:00.000Z'")
            .exit_code == 0
    );
    REQUIRE(
        fleet.workspace.sqlite("UPDATE patients SET next_sync_at = '2999-01-01T00:00:00.000Z'").exit_code == 0
    );
    CHECK(fleet.run({"run", "--once"}) == 0);
    jobs = fleet.workspace.jobs();
    CHECK(count_by(jobs, "mirror_state")["mirrored"] == 6);
    CHECK(sqlite_text(fleet.workspace, "SELECT count(*) FROM salesforce_pause") == "0");
    state = fleet.sandbox.state();
    CHECK(number_in(state.at("sync_jobs").as_object(), "count") == 6);
}

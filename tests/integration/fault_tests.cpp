#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>
#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bbsync_workspace.hpp"
#include "sandbox_server.hpp"
#include "temporary_directory.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using bbsync::integration_tests::bbsync_workspace;
using bbsync::integration_tests::sandbox_server;
using bbsync::integration_tests::temporary_directory;

constexpr const char* eob_route = "/v2/fhir/ExplanationOfBenefit";

// A small sandbox with a bbsync configuration whose pages of 5 EOBs give every patient
// several pages, and whose short timeouts end a stalled request within seconds.
struct fault_fleet
{
    explicit fault_fleet(int patients = 3, int eobs_per_patient = 12, const std::string& extra_config = {})
        : sandbox(directory.path(), patients, eobs_per_patient),
          workspace(directory.path() / "bbsync", sandbox, "debug")
    {
        // Pages of 5 EOBs unless extra_config sets the page size; a key may appear only once.
        const bool sets_page_size = extra_config.find("bluebuttonapi.eobEndpoint.count") != std::string::npos;
        workspace.append_config(
            std::string(sets_page_size ? "" : "bluebuttonapi.eobEndpoint.count = 5\n") +
            "http.readTimeout = 2\n"
            "http.requestTimeout = 5\n" +
            extra_config
        );
        workspace.add_sandbox_patients(sandbox);
    }

    // Replaces the sandbox fault set, or clears it with an empty list.
    void set_faults(const std::vector<std::string>& specs) { sandbox.set_faults(specs); }

    // Runs `bbsync run --once` and returns its exit code.
    int sync_once()
    {
        const auto run = workspace.run({"run", "--once"}, {}, std::chrono::seconds(60));
        UNSCOPED_INFO("run --once standard error: " << run.stderr_path);
        return run.exit_code;
    }

    temporary_directory directory{"bbsync-faults"};
    sandbox_server sandbox;
    bbsync_workspace workspace;
};

std::int64_t number_at(const json::object& object, const char* section, const char* key)
{
    const auto* inner = object.at(section).if_object();
    const auto* value = inner != nullptr ? inner->if_contains(key) : nullptr;
    return value != nullptr && value->is_number() ? value->to_number<std::int64_t>() : 0;
}

std::int64_t number_at(const json::object& object, const char* key)
{
    return object.at(key).to_number<std::int64_t>();
}

std::string text_at(const json::value& object, const char* key)
{
    const auto& value = object.at(key);
    return value.is_string() ? std::string(value.as_string()) : std::string();
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

// Returns the sum of foreign_authorization over every host, checking each host's count.
std::int64_t foreign_authorizations(const json::object& state)
{
    std::int64_t total = 0;
    for (const auto& entry : state.at("foreign_authorization").as_array())
    {
        const auto count = entry.at("count").to_number<std::int64_t>();
        INFO("foreign_authorization of " << text_at(entry, "host"));
        CHECK(count == 0);
        total += count;
    }
    return total;
}

// Returns how many requests the sandbox counted on `host` for `route`, over every method and
// status.
std::int64_t request_count(const json::object& state, const std::string& host, const std::string& route)
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

// Checks that the runs stored no duplicate record and sent no bearer token to a host it does
// not belong to. Every fault must keep both.
void check_no_duplicates_or_leaks(const json::object& state)
{
    CHECK(number_at(state, "duplicates_total") == 0);
    CHECK(foreign_authorizations(state) == 0);
}

// Clears the faults, makes every patient due and syncs again. A watermark moved past EOBs
// that were never stored would make this run skip them, so Encounter records would stay
// below eobs_total.
void check_clean_rerun(fault_fleet& fleet)
{
    fleet.set_faults({});
    fleet.workspace.make_all_patients_due();
    CHECK(fleet.sync_once() == 0);
    const auto state = fleet.sandbox.state();
    CHECK(number_at(state, "records", "Encounter") == number_at(state, "eobs_total"));
    check_no_duplicates_or_leaks(state);
}

// Checks that a sync despite the fault `spec` ended with every job Completed and every EOB
// stored.
void check_all_completed(fault_fleet& fleet, const std::string& spec, int exit_code)
{
    CHECK(exit_code == 0);
    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 3);
    for (const auto& job : jobs)
    {
        INFO("job " << text_at(job, "job_id") << ": " << text_at(job, "summary"));
        CHECK(text_at(job, "status") == "Completed");
        CHECK(job.at("eobs_fetched").to_number<std::int64_t>() == 12);
    }
    const auto state = fleet.sandbox.state();
    CHECK(times_applied(state, spec) >= 1);
    CHECK(number_at(state, "records", "Encounter") == number_at(state, "eobs_total"));
    check_no_duplicates_or_leaks(state);
}

// Returns the number of patients whose watermark is set.
int patients_with_watermark(bbsync_workspace& workspace)
{
    const auto result = workspace.sqlite("SELECT count(*) FROM patients WHERE watermark IS NOT NULL");
    REQUIRE(result.exit_code == 0);
    return std::stoi(result.output);
}

// Runs one fault that makes every job of the first sync end without all its EOBs, and
// checks the job status, the error class and that no watermark moved.
void check_next_link_fault(const std::string& spec, const std::string& error_class)
{
    fault_fleet fleet(3, 12, "bluebuttonapi.enablePagination = false\n");
    fleet.set_faults({spec});
    const int exit_code = fleet.sync_once();

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 3);
    auto statuses = count_by(jobs, "status");
    CHECK(statuses.count("Completed") == 0);
    CHECK(exit_code == (statuses.count("Failed") != 0 ? 1 : 0));
    for (const auto& job : jobs)
    {
        INFO("job " << text_at(job, "job_id") << ": " << text_at(job, "summary"));
        const auto status = text_at(job, "status");
        CHECK((status == "Failed" || status == "PartiallyCompleted"));
        CHECK(text_at(job, "last_error_class") == error_class);
    }
    CHECK(patients_with_watermark(fleet.workspace) == 0);
    const auto state = fleet.sandbox.state();
    CHECK(times_applied(state, spec) >= 1);
    if (error_class == "payer.foreign_next_link")
    {
        // One EOB search per patient, so no request followed the foreign link. A plain-HTTP
        // connection would not show in the sandbox's counts, which see only TLS requests.
        CHECK(request_count(state, "payer", eob_route) == 3);
    }
    check_no_duplicates_or_leaks(state);

    check_clean_rerun(fleet);
}

}  // namespace

TEST_CASE("payer 429 with Retry-After is retried", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = std::string("payer:") + eob_route + ":first=2:status=429:retry_after=1";
    fleet.set_faults({spec});
    check_all_completed(fleet, spec, fleet.sync_once());
    CHECK(times_applied(fleet.sandbox.state(), spec) == 2);
    check_clean_rerun(fleet);
}

TEST_CASE("payer 503 once is retried", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = std::string("payer:") + eob_route + ":first=1:status=503";
    fleet.set_faults({spec});
    check_all_completed(fleet, spec, fleet.sync_once());
    check_clean_rerun(fleet);
}

TEST_CASE("stalled payer response times out and is retried", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = std::string("payer:") + eob_route + ":first=1:stall";
    fleet.set_faults({spec});
    check_all_completed(fleet, spec, fleet.sync_once());
    check_clean_rerun(fleet);
}

TEST_CASE("trickled payer body completes or times out", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = std::string("payer:") + eob_route + ":first=1:trickle=1";
    fleet.set_faults({spec});
    const int exit_code = fleet.sync_once();

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 3);
    auto statuses = count_by(jobs, "status");
    CHECK(exit_code == (statuses.count("Failed") != 0 ? 1 : 0));
    for (const auto& job : jobs)
    {
        INFO("job " << text_at(job, "job_id") << ": " << text_at(job, "summary"));
        const auto status = text_at(job, "status");
        if (status != "Completed")
        {
            CHECK(status == "Failed");
            CHECK(text_at(job, "last_error_class") == "payer.timeout");
        }
    }
    const auto state = fleet.sandbox.state();
    CHECK(times_applied(state, spec) == 1);
    check_no_duplicates_or_leaks(state);
    check_clean_rerun(fleet);
}

TEST_CASE("payer reset mid-body is retried", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = std::string("payer:") + eob_route + ":first=1:reset";
    fleet.set_faults({spec});
    check_all_completed(fleet, spec, fleet.sync_once());
    check_clean_rerun(fleet);
}

TEST_CASE("payer close without close_notify completes", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = std::string("payer:") + eob_route + ":all:close_no_notify";
    fleet.set_faults({spec});
    check_all_completed(fleet, spec, fleet.sync_once());
    check_clean_rerun(fleet);
}

TEST_CASE("malformed payer JSON is retried or fails cleanly", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = std::string("payer:") + eob_route + ":first=1:malformed_json";
    fleet.set_faults({spec});
    const int exit_code = fleet.sync_once();
    CHECK((exit_code == 0 || exit_code == 1));

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 3);
    auto statuses = count_by(jobs, "status");
    CHECK(exit_code == (statuses.count("Failed") != 0 ? 1 : 0));
    CHECK(statuses["Completed"] + statuses["Failed"] == 3);
    const auto state = fleet.sandbox.state();
    CHECK(times_applied(state, spec) == 1);
    check_no_duplicates_or_leaks(state);
    check_clean_rerun(fleet);
}

TEST_CASE("looping next link stops the job", "[integration][faults]")
{
    check_next_link_fault(std::string("payer:") + eob_route + ":all:next_loop", "payer.next_link_loop");
}

TEST_CASE("plain-HTTP next link stops the job", "[integration][faults]")
{
    // The http variant points at 127.0.0.1, so a daemon that followed it would still stay
    // on loopback.
    const std::string spec = std::string("payer:") + eob_route + ":all:next_foreign=http";
    check_next_link_fault(spec, "payer.foreign_next_link");
}

TEST_CASE("9 MB payer page fails the job", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = std::string("payer:") + eob_route + ":first=1:big_page";
    fleet.set_faults({spec});
    CHECK(fleet.sync_once() == 1);

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 3);
    auto statuses = count_by(jobs, "status");
    CHECK(statuses["Failed"] == 1);
    CHECK(statuses["Completed"] == 2);
    for (const auto& job : jobs)
    {
        if (text_at(job, "status") == "Failed")
        {
            INFO("job " << text_at(job, "job_id") << ": " << text_at(job, "summary"));
            CHECK(text_at(job, "last_error_class") == "payer.too_large");
        }
    }
    CHECK(patients_with_watermark(fleet.workspace) == 2);
    const auto state = fleet.sandbox.state();
    CHECK(times_applied(state, spec) == 1);
    check_no_duplicates_or_leaks(state);
    check_clean_rerun(fleet);
}

TEST_CASE("expired Health Cloud session is renewed once", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = "healthcloud:/bundle/fhir-r4/v1:first=1:invalid_session";
    fleet.set_faults({spec});
    check_all_completed(fleet, spec, fleet.sync_once());
    const auto state = fleet.sandbox.state();
    CHECK(number_at(state, "tokens", "sf_tokens_issued") == 2);
    check_clean_rerun(fleet);
}

TEST_CASE("rejected bundle entry leaves the job partial", "[integration][faults]")
{
    fault_fleet fleet;
    const std::string spec = "healthcloud:/bundle/fhir-r4/v1/Bundle:first=1:entry_400";
    fleet.set_faults({spec});
    CHECK(fleet.sync_once() == 0);

    // The job that met the fault ends PartiallyCompleted, unless a later bundle of the same job
    // stored the rejected resource (a Practitioner that recurs), which depends on whose bundle
    // arrived first. No other job reports a 400.
    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 3);
    const auto state_after = fleet.sandbox.state();
    const bool all_stored =
        number_at(state_after, "records", "Encounter") == number_at(state_after, "eobs_total");
    auto statuses = count_by(jobs, "status");
    CHECK(statuses["PartiallyCompleted"] == (all_stored ? 0 : 1));
    CHECK(statuses["Completed"] == (all_stored ? 3 : 2));
    int jobs_with_400 = 0;
    for (const auto& job : jobs)
    {
        const auto summary = text_at(job, "summary");
        INFO("summary: " << summary);
        if (summary.find("400") != std::string::npos)
        {
            ++jobs_with_400;
        }
        if (text_at(job, "status") == "PartiallyCompleted")
        {
            CHECK(summary.find("400") != std::string::npos);
            CHECK(summary.find("424") != std::string::npos);
            CHECK(job.at("resources_failed").to_number<std::int64_t>() >= 1);
        }
    }
    CHECK(jobs_with_400 <= 1);
    if (!all_stored)
    {
        CHECK(jobs_with_400 == 1);
    }
    const auto state = fleet.sandbox.state();
    CHECK(times_applied(state, spec) == 1);
    check_no_duplicates_or_leaks(state);

    check_clean_rerun(fleet);
    const auto rerun_jobs = fleet.workspace.jobs();
    REQUIRE(rerun_jobs.size() == 6);
    for (std::size_t i = 0; i < 3; ++i)
    {
        INFO("rerun job " << text_at(rerun_jobs[i], "job_id") << ": " << text_at(rerun_jobs[i], "summary"));
        CHECK(text_at(rerun_jobs[i], "status") == "Completed");
    }
}

TEST_CASE("idle keep-alive close between requests", "[integration][faults]")
{
    fault_fleet fleet;
    const std::vector<std::string> specs = {
        std::string("payer:") + eob_route + ":all:idle_close=1",
        "healthcloud:/bundle/fhir-r4/v1:all:idle_close=1",
        "salesforce:/services/data:all:idle_close=1",
    };
    fleet.set_faults(specs);
    check_all_completed(fleet, specs.front(), fleet.sync_once());
    const auto state = fleet.sandbox.state();
    for (const auto& spec : specs)
    {
        INFO("fault " << spec);
        CHECK(times_applied(state, spec) >= 1);
    }
    check_clean_rerun(fleet);
}

TEST_CASE("50 jobs keep Health Cloud calls at 5 or fewer", "[integration][faults]")
{
    fault_fleet fleet(50, 12);
    // Latency keeps each bundle call in flight long enough for the jobs to overlap.
    const std::string spec = "healthcloud:/bundle/fhir-r4/v1:all:latency=30";
    fleet.set_faults({spec});
    CHECK(fleet.sync_once() == 0);

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 50);
    CHECK(count_by(jobs, "status")["Completed"] == 50);
    const auto state = fleet.sandbox.state();
    CHECK(times_applied(state, spec) >= 50);
    CHECK(number_at(state, "max_concurrency", "healthcloud") >= 2);
    CHECK(number_at(state, "max_concurrency", "healthcloud") <= 5);
    CHECK(number_at(state, "healthcloud_throttled") == 0);
    CHECK(number_at(state, "records", "Encounter") == number_at(state, "eobs_total"));
    check_no_duplicates_or_leaks(state);
}

TEST_CASE("one page sends its bundles in parallel", "[integration][faults]")
{
    // One patient, one page of 50 EOBs and one page at a time: any overlap of bundle calls comes
    // from the bundles of a single page.
    fault_fleet fleet(1, 50, "bluebuttonapi.eobEndpoint.count = 50\nbluebuttonIntegration.batchCount = 1\n");
    const std::string spec = "healthcloud:/bundle/fhir-r4/v1:all:latency=50";
    fleet.set_faults({spec});
    CHECK(fleet.sync_once() == 0);

    const auto jobs = fleet.workspace.jobs();
    REQUIRE(jobs.size() == 1);
    CHECK(text_at(jobs[0], "status") == "Completed");
    CHECK(jobs[0].at("eobs_fetched").to_number<std::int64_t>() == 50);
    const auto state = fleet.sandbox.state();
    CHECK(state.at("eob_searches").as_array().size() == 1);
    CHECK(times_applied(state, spec) >= 3);
    CHECK(number_at(state, "max_concurrency", "healthcloud") >= 2);
    CHECK(number_at(state, "max_concurrency", "healthcloud") <= 5);
    CHECK(number_at(state, "overlapping_conditional_creates") == 0);
    CHECK(number_at(state, "records", "Encounter") == 50);
    check_no_duplicates_or_leaks(state);
}

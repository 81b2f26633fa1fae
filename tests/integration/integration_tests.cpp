#include <boost/json/object.hpp>

#include <catch2/catch.hpp>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bbsync_workspace.hpp"
#include "child_process.hpp"
#include "sandbox_server.hpp"
#include "temporary_directory.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using bbsync::integration_tests::bbsync_workspace;
using bbsync::integration_tests::process_spec;
using bbsync::integration_tests::read_text_file;
using bbsync::integration_tests::run_process;
using bbsync::integration_tests::sandbox_server;
using bbsync::integration_tests::temporary_directory;

// A sandbox with its own bbsync configuration and database, in one temporary directory.
// Members are destroyed in reverse order, so the sandbox stops before its files go.
struct fleet
{
    fleet(int patients, int eobs_per_patient, const std::string& log_level = "info")
        : sandbox(directory.path(), patients, eobs_per_patient),
          workspace(directory.path() / "bbsync", sandbox, log_level)
    {}

    std::string sf_id(std::size_t index) const
    {
        return std::string(sandbox.patients().at(index).at("sf_patient_id").as_string());
    }

    std::string payer_id(std::size_t index) const
    {
        return std::string(sandbox.patients().at(index).at("payer_patient_id").as_string());
    }

    // Registers every sandbox patient with its original refresh token on standard input.
    void add_all_patients()
    {
        for (std::size_t i = 0; i < sandbox.patients().size(); ++i)
        {
            const auto added =
                workspace.add_patient(sf_id(i), payer_id(i), sandbox.original_refresh_token(i));
            INFO("patient add for " << sf_id(i) << "; standard error in " << added.stderr_path);
            REQUIRE(added.exit_code == 0);
        }
    }

    // Runs `bbsync run --once` and returns its exit code.
    int sync_once()
    {
        const auto run = workspace.run({"run", "--once"});
        UNSCOPED_INFO("run --once standard error: " << run.stderr_path);
        return run.exit_code;
    }

    temporary_directory directory{"bbsync-integration"};
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

bool has_gt_filter(const json::value& search)
{
    for (const auto& value : search.at("last_updated").as_array())
    {
        if (value.as_string().starts_with("gt"))
        {
            return true;
        }
    }
    return false;
}

std::vector<std::string> split_lines(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
    {
        if (!line.empty())
        {
            lines.push_back(line);
        }
    }
    return lines;
}

// The refresh tokens stored in the database, read with the sqlite3 CLI as an operator would.
std::vector<std::string> stored_refresh_tokens(bbsync_workspace& workspace, const std::string& where = "1")
{
    const auto result =
        workspace.sqlite("SELECT refresh_token FROM patients WHERE refresh_token IS NOT NULL AND " + where);
    REQUIRE(result.exit_code == 0);
    return split_lines(result.output);
}

// A secret the logs must not contain, with a label that names it without showing it.
struct forbidden_text
{
    std::string label;
    std::string text;
};

// Returns "FILE:LINE contains LABEL" for every log line that contains a forbidden text.
std::vector<std::string> find_forbidden(
    const std::vector<fs::path>& files, const std::vector<forbidden_text>& forbidden
)
{
    std::vector<std::string> findings;
    for (const auto& file : files)
    {
        std::istringstream in(read_text_file(file));
        std::string line;
        for (int number = 1; std::getline(in, line); ++number)
        {
            for (const auto& item : forbidden)
            {
                if (line.find(item.text) != std::string::npos)
                {
                    findings.push_back(
                        file.string() + ":" + std::to_string(number) + " contains " + item.label
                    );
                }
            }
        }
    }
    return findings;
}

}  // namespace

TEST_CASE("first sync completes every patient", "[integration]")
{
    fleet f(50, 12);
    f.add_all_patients();

    REQUIRE(f.sync_once() == 0);

    const auto jobs = f.workspace.jobs();
    REQUIRE(jobs.size() == 50);
    CHECK(count_by(jobs, "status")["Completed"] == 50);
    CHECK(count_by(jobs, "mirror_state")["mirrored"] == 50);
    CHECK(count_by(jobs, "sf_patient_id").size() == 50);
    for (const auto& job : jobs)
    {
        INFO("job " << text_at(job, "job_id"));
        CHECK(job.at("eobs_fetched").to_number<std::int64_t>() == 12);
    }

    const auto state = f.sandbox.state();
    CHECK(number_at(state, "eobs_total") == 600);
    CHECK(number_at(state, "records", "Encounter") == number_at(state, "eobs_total"));
    CHECK(number_at(state, "duplicates_total") == 0);
    CHECK(number_at(state, "rejected_total") == 0);
    const auto& sync_jobs = state.at("sync_jobs").as_object();
    CHECK(number_at(sync_jobs, "count") == 50);
    CHECK(number_at(sync_jobs, "by_status", "Completed") == 50);
    CHECK(number_at(state, "max_concurrency", "healthcloud") >= 1);
    CHECK(number_at(state, "max_concurrency", "healthcloud") <= 5);
}

TEST_CASE("second sync fetches only new EOBs", "[integration]")
{
    fleet f(50, 12);
    f.add_all_patients();
    REQUIRE(f.sync_once() == 0);

    // The first run has no watermark, so none of its searches filters by _lastUpdated=gt.
    const auto first_searches = f.sandbox.state().at("eob_searches").as_array();
    REQUIRE_FALSE(first_searches.empty());
    int first_searches_with_gt = 0;
    for (const auto& search : first_searches)
    {
        first_searches_with_gt += has_gt_filter(search) ? 1 : 0;
    }
    CHECK(first_searches_with_gt == 0);

    const auto added = f.sandbox.post_form("payer", "/_sandbox/eobs?per_patient=2", "");
    REQUIRE(added.status == 200);
    REQUIRE(added.json().at("added").to_number<std::int64_t>() == 100);
    f.workspace.make_all_patients_due();
    REQUIRE(f.sync_once() == 0);

    const auto state = f.sandbox.state();
    const auto& searches = state.at("eob_searches").as_array();
    REQUIRE(searches.size() > first_searches.size());
    std::set<std::string> searched_patients;
    std::vector<std::string> searches_without_gt;
    for (std::size_t i = first_searches.size(); i < searches.size(); ++i)
    {
        searched_patients.insert(text_at(searches[i], "patient"));
        if (!has_gt_filter(searches[i]))
        {
            searches_without_gt.push_back(text_at(searches[i], "patient"));
        }
    }
    INFO(
        searches_without_gt.size() << " EOB search(es) without _lastUpdated=gt, the first for patient "
                                   << (searches_without_gt.empty() ? std::string("-")
                                                                   : searches_without_gt.front())
    );
    CHECK(searches_without_gt.empty());
    CHECK(searched_patients.size() == 50);
    CHECK(number_at(state, "eobs_total") == 700);
    CHECK(number_at(state, "records", "Encounter") == number_at(state, "eobs_total"));
    CHECK(number_at(state, "duplicates_total") == 0);
    CHECK(number_at(state, "rejected_total") == 0);

    // Jobs come newest first, so the first job seen for a patient is its second one.
    const auto jobs = f.workspace.jobs();
    REQUIRE(jobs.size() == 100);
    std::map<std::string, std::vector<std::int64_t>> fetched_by_patient;
    for (const auto& job : jobs)
    {
        CHECK(text_at(job, "status") == "Completed");
        fetched_by_patient[text_at(job, "sf_patient_id")].push_back(
            job.at("eobs_fetched").to_number<std::int64_t>()
        );
    }
    CHECK(fetched_by_patient.size() == 50);
    for (const auto& [patient, fetched] : fetched_by_patient)
    {
        INFO("patient " << patient);
        REQUIRE(fetched.size() == 2);
        CHECK(fetched[0] == 2);
        CHECK(fetched[1] == 12);
    }
}

TEST_CASE("rotated refresh token is used and the old one is rejected", "[integration]")
{
    fleet f(10, 12);
    f.add_all_patients();
    REQUIRE(f.sync_once() == 0);
    f.workspace.make_all_patients_due();
    REQUIRE(f.sync_once() == 0);

    // Two runs refresh every patient's token twice without any rejection.
    const auto state = f.sandbox.state();
    const auto& tokens = state.at("tokens").as_object();
    CHECK(number_at(tokens, "payer_refreshes") == 20);
    for (const auto& [error, count] : tokens.at("payer_refresh_rejections").as_object())
    {
        INFO("payer refresh rejection " << std::string(error));
        CHECK(count.to_number<std::int64_t>() == 0);
    }

    const auto original = f.sandbox.original_refresh_token(0);
    const auto stored = stored_refresh_tokens(f.workspace, "sf_patient_id = '" + f.sf_id(0) + "'");
    REQUIRE(stored.size() == 1);
    const bool rotated = stored.front() != original;
    CHECK(rotated);

    const auto reused = f.sandbox.refresh_payer_token(original);
    CHECK(reused.status == 400);
    CHECK(text_at(reused.json(), "error") == "invalid_grant");
    CHECK(
        number_at(f.sandbox.state().at("tokens").as_object(), "payer_refresh_rejections", "invalid_grant") ==
        1
    );

    // The stored token is the live one: the payer still accepts it.
    CHECK(f.sandbox.refresh_payer_token(stored.front()).status == 200);
}

TEST_CASE("operators read job history with sqlite3", "[integration]")
{
    fleet f(10, 4);
    f.add_all_patients();
    REQUIRE(f.sync_once() == 0);
    f.workspace.make_all_patients_due();
    REQUIRE(f.sync_once() == 0);
    const auto jobs = f.workspace.jobs();
    REQUIRE(jobs.size() == 20);

    const auto history = f.workspace.sqlite("select * from job_history");
    INFO("sqlite3 standard error: " << read_text_file(history.stderr_path));
    REQUIRE(history.exit_code == 0);
    const auto lines = split_lines(history.output);
    std::vector<std::string> lines_without_job_id;
    for (const auto& line : lines)
    {
        bool has_job_id = false;
        for (const auto& job : jobs)
        {
            has_job_id = has_job_id || line.find(text_at(job, "job_id")) != std::string::npos;
        }
        if (!has_job_id)
        {
            lines_without_job_id.push_back(line);
        }
    }
    INFO(
        lines_without_job_id.size() << " line(s) without a job id, the first: "
                                    << (lines_without_job_id.empty() ? std::string("-")
                                                                     : lines_without_job_id.front())
    );
    CHECK(lines_without_job_id.empty());
    CHECK(lines.size() == jobs.size());
    for (const auto& job : jobs)
    {
        const auto job_id = text_at(job, "job_id");
        INFO("job " << job_id);
        REQUIRE_FALSE(job_id.empty());
        int matching_lines = 0;
        for (const auto& line : lines)
        {
            matching_lines += line.find(job_id) != std::string::npos ? 1 : 0;
        }
        CHECK(matching_lines == 1);
    }
}

TEST_CASE("no token or secret appears in the logs", "[integration]")
{
    // Debug logging, a spent token and a second run put every log path of a sync in play.
    fleet f(20, 12, "debug");
    const auto spent = f.sandbox.refresh_payer_token(f.sandbox.original_refresh_token(0));
    REQUIRE(spent.status == 200);
    f.add_all_patients();
    CHECK(f.sync_once() == 1);
    REQUIRE(f.sandbox.post_form("payer", "/_sandbox/eobs?per_patient=2", "").status == 200);
    f.workspace.make_all_patients_due();
    CHECK(f.sync_once() == 0);
    CHECK(f.workspace.run({"patient", "list"}).exit_code == 0);
    CHECK(f.workspace.jobs().size() == 39);

    std::vector<forbidden_text> forbidden = {
        {"the word Bearer", "Bearer"},
        {"a refresh_token= form field", "refresh_token="},
    };
    for (std::size_t i = 0; i < f.sandbox.patients().size(); ++i)
    {
        forbidden.push_back(
            {"the original refresh token of " + f.sf_id(i), f.sandbox.original_refresh_token(i)}
        );
    }
    const auto stored = stored_refresh_tokens(f.workspace);
    CHECK(stored.size() == 20);
    for (std::size_t i = 0; i < stored.size(); ++i)
    {
        forbidden.push_back({"stored refresh token " + std::to_string(i + 1), stored[i]});
    }
    const auto spent_body = spent.json();
    forbidden.push_back({"the refresh token issued to curl", text_at(spent_body, "refresh_token")});
    forbidden.push_back({"the access token issued to curl", text_at(spent_body, "access_token")});
    for (const char* key : {"payer_client_secret", "sf_client_secret"})
    {
        forbidden.push_back({std::string("the sandbox's ") + key, text_at(f.sandbox.ready(), key)});
    }
    for (const auto& item : forbidden)
    {
        INFO(item.label);
        REQUIRE(item.text.size() >= 6);
    }

    // The check would pass vacuously on empty logs, so the runs must have logged.
    std::string all_logs;
    for (const auto& file : f.workspace.stderr_files())
    {
        all_logs += read_text_file(file);
    }
    CHECK(split_lines(all_logs).size() >= 10);
    CHECK(all_logs.find("run finished") != std::string::npos);

    const auto findings = find_forbidden(f.workspace.stderr_files(), forbidden);
    for (const auto& finding : findings)
    {
        UNSCOPED_INFO(finding);
    }
    CHECK(findings.empty());
}

TEST_CASE("a patient whose token was reused is marked for renewal", "[integration]")
{
    fleet f(5, 4);
    REQUIRE(f.sandbox.refresh_payer_token(f.sandbox.original_refresh_token(0)).status == 200);
    f.add_all_patients();

    CHECK(f.sync_once() == 1);

    const auto jobs = f.workspace.jobs();
    REQUIRE(jobs.size() == 5);
    for (const auto& job : jobs)
    {
        const auto patient = text_at(job, "sf_patient_id");
        INFO("job of " << patient);
        if (patient == f.sf_id(0))
        {
            CHECK(text_at(job, "status") == "Failed");
            CHECK(text_at(job, "last_error_class") == "consent.renewal_required");
        }
        else
        {
            CHECK(text_at(job, "status") == "Completed");
            CHECK(job.at("eobs_fetched").to_number<std::int64_t>() == 4);
        }
    }

    const auto list = f.workspace.run({"patient", "list"});
    REQUIRE(list.exit_code == 0);
    int listed = 0;
    for (const auto& line : split_lines(list.output))
    {
        for (std::size_t i = 0; i < 5; ++i)
        {
            if (line.find(f.sf_id(i)) != std::string::npos)
            {
                INFO("patient list line " << line);
                ++listed;
                CHECK(line.find(i == 0 ? "renewal_required" : "active") != std::string::npos);
            }
        }
    }
    CHECK(listed == 5);

    const auto state = f.sandbox.state();
    CHECK(number_at(state, "tokens", "payer_refreshes") == 5);
    CHECK(number_at(state.at("tokens").as_object(), "payer_refresh_rejections", "invalid_grant") == 1);
    CHECK(number_at(state, "records", "Encounter") == 16);
    CHECK(number_at(state.at("sync_jobs").as_object(), "by_status", "Failed") == 1);
    CHECK(number_at(state.at("sync_jobs").as_object(), "by_status", "Completed") == 4);

    // A patient waiting for renewed consent is not synced again.
    f.workspace.make_all_patients_due();
    CHECK(f.sync_once() == 0);
    CHECK(count_by(f.workspace.jobs(), "sf_patient_id")[f.sf_id(0)] == 1);
}

TEST_CASE("demo command ends with every job Completed", "[integration]")
{
    temporary_directory directory{"bbsync-integration"};
    process_spec spec;
    spec.arguments = {BBSYNC_EXECUTABLE, "demo", "--patients", "20", "--eobs-per-patient", "8"};
    spec.stdout_path = directory.path() / "demo.stdout";
    spec.stderr_path = directory.path() / "demo.stderr";
    spec.timeout = std::chrono::seconds(90);

    const auto demo = run_process(spec);
    INFO("demo standard error: " << read_text_file(spec.stderr_path));
    CHECK(demo.exit_code == 0);
    CHECK(demo.output.find("Demo OK") != std::string::npos);
    CHECK(demo.output.find("Jobs: 20 (20 Completed") != std::string::npos);
}

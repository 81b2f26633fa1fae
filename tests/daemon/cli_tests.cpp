#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "command_runner.hpp"
#include "daemon/sync/repository.hpp"
#include "scratch_directory.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

using bbsync::test::command_result;
using bbsync::test::run_command;
using bbsync::test::scratch_directory;

namespace {

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// A database in a scratch directory and a private configuration file that points at it.
class cli_fixture
{
public:
    cli_fixture()
        : database_path_(scratch_.file("bbsync.db")),
          config_path_(scratch_.write_file("bbsync.conf", "database.path = " + database_path_ + "\n", 0600))
    {}

    // Runs bbsync --config CONFIG with `arguments`.
    command_result bbsync(const std::vector<std::string>& arguments, const std::string& input = "") const
    {
        std::vector<std::string> command = {BBSYNC_EXECUTABLE, "--config", config_path_};
        command.insert(command.end(), arguments.begin(), arguments.end());
        return run_command(command, input, scratch_.path());
    }

    const scratch_directory& scratch() const { return scratch_; }
    const std::string& database_path() const { return database_path_; }
    const std::string& config_path() const { return config_path_; }

private:
    scratch_directory scratch_;
    std::string database_path_;
    std::string config_path_;
};

// Formats the exit code and output of a command for INFO messages.
std::string describe(const command_result& result)
{
    return "exit " + std::to_string(result.exit_code) + "\nstdout:\n" + result.out + "\nstderr:\n" +
           result.err;
}

}  // namespace

TEST_CASE("help and version exit 0", "[daemon][cli]")
{
    scratch_directory scratch;
    const auto help = run_command({BBSYNC_EXECUTABLE, "--help"}, "", scratch.path());
    INFO(describe(help));
    CHECK(help.exit_code == 0);
    CHECK(contains(help.out, "Usage: bbsync"));

    const auto version = run_command({BBSYNC_EXECUTABLE, "--version"}, "", scratch.path());
    INFO(describe(version));
    CHECK(version.exit_code == 0);
    CHECK(contains(version.out, "bbsync "));
}

TEST_CASE("unknown command exits 2", "[daemon][cli]")
{
    cli_fixture cli;
    const auto result = cli.bbsync({"frobnicate"});
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, "unknown command 'frobnicate'"));

    const auto none = cli.bbsync({});
    INFO(describe(none));
    CHECK(none.exit_code == 2);
}

TEST_CASE("config check names missing client ids", "[daemon][cli]")
{
    cli_fixture cli;
    const auto result = cli.bbsync({"config", "check"});
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, "missing required configuration"));
    CHECK(contains(result.err, "bluebuttonapi.clientId"));
    CHECK(contains(result.err, "bluebuttonapi.clientSecret"));
    CHECK(contains(result.err, "hcOrg.client_id"));
    CHECK(contains(result.err, "hcOrg.client_secret"));
}

TEST_CASE("config check accepts a complete configuration", "[daemon][cli]")
{
    scratch_directory scratch;
    const auto config = scratch.write_file(
        "bbsync.conf",
        "bluebuttonapi.clientId = payer-client\n"
        "bluebuttonapi.clientSecret = payer-secret-value\n"
        "hcOrg.client_id = sf-client\n"
        "hcOrg.client_secret = sf-secret-value\n",
        0600
    );
    const auto result =
        run_command({BBSYNC_EXECUTABLE, "--config", config, "config", "check"}, "", scratch.path());
    INFO(describe(result));
    CHECK(result.exit_code == 0);
    CHECK(contains(result.out, "is valid"));
    CHECK_FALSE(contains(result.out + result.err, "secret-value"));
}

TEST_CASE("config check rejects an invalid value", "[daemon][cli]")
{
    scratch_directory scratch;
    const auto config = scratch.write_file("bbsync.conf", "bluebuttonapi.eobEndpoint.count = 51\n", 0600);
    const auto result =
        run_command({BBSYNC_EXECUTABLE, "--config", config, "config", "check"}, "", scratch.path());
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, "bluebuttonapi.eobEndpoint.count = \"51\""));
    CHECK(contains(result.err, config + ":1"));
}

TEST_CASE("patient commands round trip through the database", "[daemon][cli]")
{
    cli_fixture cli;
    const std::string stdin_token = "refresh-token-from-stdin-0123456789";
    const std::string file_token = "refresh-token-from-file-9876543210";

    // Register one patient with the token on standard input and one from a file.
    const auto from_stdin = cli.bbsync(
        {"patient",
         "add",
         "--sf-id",
         "001A000001",
         "--payer-id",
         "-20140000008325",
         "--refresh-token-file",
         "-"},
        stdin_token + "\n"
    );
    INFO(describe(from_stdin));
    REQUIRE(from_stdin.exit_code == 0);
    CHECK(contains(from_stdin.out, "added patient 001A000001"));

    const auto token_file = cli.scratch().write_file("token", file_token + "\n", 0600);
    const auto from_file = cli.bbsync(
        {"patient",
         "add",
         "--sf-id",
         "001A000002",
         "--payer-id",
         "-20140000008326",
         "--refresh-token-file",
         token_file,
         "--interval",
         "3600"}
    );
    INFO(describe(from_file));
    REQUIRE(from_file.exit_code == 0);

    // The list shows that tokens are stored, never the tokens.
    const auto list = cli.bbsync({"patient", "list"});
    INFO(describe(list));
    REQUIRE(list.exit_code == 0);
    CHECK(contains(list.out, "001A000001"));
    CHECK(contains(list.out, "001A000002"));
    CHECK(contains(list.out, "yes"));
    CHECK_FALSE(contains(list.out + list.err, stdin_token));
    CHECK_FALSE(contains(list.out + list.err, file_token));

    // The tokens arrive trimmed, and a finished job gives the first patient a watermark.
    std::string job_id = "7d1c0a52-8f3e-4b6a-9c2d-0e1f2a3b4c5d";
    {
        auto db = bbsync::store::database::open(cli.database_path());
        bbsync::repository repo(db);
        const auto first = repo.find_patient_by_sf_id("001A000001");
        const auto second = repo.find_patient_by_sf_id("001A000002");
        REQUIRE(first);
        REQUIRE(second);
        CHECK(repo.refresh_token(first->key) == stdin_token);
        CHECK(repo.refresh_token(second->key) == file_token);
        CHECK(second->sync_interval_s == 3600);

        repo.start_job(job_id, *first, "manual", "2024-05-01T10:00:00.000Z");
        bbsync::job_result result;
        result.job_id = job_id;
        result.patient_key = first->key;
        result.status = "Completed";
        result.summary = "ExplanationOfBenefit: 1 written";
        result.new_watermark = "2024-04-30T00:00:00Z";
        result.next_sync_at = "2998-01-01T00:00:00.000Z";
        repo.finish_job(result, "2024-05-01T10:01:00.000Z");
        REQUIRE(repo.find_patient(first->key)->watermark);
    }

    // resync clears the watermark.
    const auto resync = cli.bbsync({"patient", "resync", "--sf-id", "001A000001"});
    INFO(describe(resync));
    CHECK(resync.exit_code == 0);
    {
        auto db = bbsync::store::database::open(cli.database_path());
        bbsync::repository repo(db);
        const auto first = repo.find_patient_by_sf_id("001A000001");
        REQUIRE(first);
        CHECK_FALSE(first->watermark);
        CHECK(first->next_sync_at < "2998-01-01T00:00:00.000Z");
    }
    const auto unknown = cli.bbsync({"patient", "resync", "--sf-id", "001NOTHERE"});
    INFO(describe(unknown));
    CHECK(unknown.exit_code == 1);
    CHECK(contains(unknown.err, "001NOTHERE not found"));

    // The job table in text and JSON.
    const auto jobs = cli.bbsync({"jobs"});
    INFO(describe(jobs));
    CHECK(jobs.exit_code == 0);
    CHECK(contains(jobs.out, job_id));
    CHECK(contains(jobs.out, "Completed"));

    const auto jobs_json = cli.bbsync({"jobs", "--json"});
    INFO(describe(jobs_json));
    REQUIRE(jobs_json.exit_code == 0);
    boost::system::error_code ec;
    const auto rows = boost::json::parse(jobs_json.out, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(rows.is_array());
    REQUIRE(rows.get_array().size() == 1);
    const auto& row = rows.get_array().front().as_object();
    CHECK(row.at("job_id") == job_id.c_str());
    CHECK(row.at("sf_patient_id") == "001A000001");
    CHECK(row.at("status") == "Completed");

    const auto filtered = cli.bbsync({"jobs", "--json", "--status", "Failed"});
    INFO(describe(filtered));
    CHECK(filtered.exit_code == 0);
    CHECK(boost::json::parse(filtered.out) == boost::json::array{});
}

TEST_CASE("duplicate patient add fails", "[daemon][cli]")
{
    cli_fixture cli;
    const std::vector<std::string> add = {
        "patient", "add", "--sf-id", "001A000001", "--payer-id", "p1", "--refresh-token-file", "-"};
    REQUIRE(cli.bbsync(add, "token-one").exit_code == 0);
    const auto again = cli.bbsync(add, "token-two");
    INFO(describe(again));
    CHECK(again.exit_code == 1);
    CHECK(contains(again.err, "already registered"));
    CHECK_FALSE(contains(again.err, "token-two"));
}

TEST_CASE("jobs with an unknown status exits 2", "[daemon][cli]")
{
    cli_fixture cli;
    const auto result = cli.bbsync({"jobs", "--status", "Bogus"});
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, "--status Bogus is invalid"));
}

TEST_CASE("patient add rejects a 21-character Salesforce id", "[daemon][cli]")
{
    cli_fixture cli;
    const std::string long_id(21, 'A');
    const auto result = cli.bbsync(
        {"patient", "add", "--sf-id", long_id, "--payer-id", "p1", "--refresh-token-file", "-"}, "token"
    );
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, long_id));
    CHECK(contains(result.err, "1 to 20 characters"));

    const auto list = cli.bbsync({"patient", "list"});
    CHECK_FALSE(contains(list.out, long_id));
}

TEST_CASE("patient add rejects an empty token", "[daemon][cli]")
{
    cli_fixture cli;
    const auto result = cli.bbsync(
        {"patient", "add", "--sf-id", "001A", "--payer-id", "p1", "--refresh-token-file", "-"}, "\n"
    );
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, "empty"));
}

TEST_CASE("patient add rejects a token with a space", "[daemon][cli]")
{
    cli_fixture cli;
    const auto result = cli.bbsync(
        {"patient", "add", "--sf-id", "001A", "--payer-id", "p1", "--refresh-token-file", "-"}, "two words\n"
    );
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, "one token on one line"));
    CHECK_FALSE(contains(result.err, "two words"));
}

TEST_CASE("patient add rejects an oversized token", "[daemon][cli]")
{
    cli_fixture cli;
    const auto result = cli.bbsync(
        {"patient", "add", "--sf-id", "001A", "--payer-id", "p1", "--refresh-token-file", "-"},
        std::string(5000, 'x')
    );
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, "longer than 4096 bytes"));
}

TEST_CASE("patient add rejects a control character in the id", "[daemon][cli]")
{
    cli_fixture cli;
    const auto result = cli.bbsync(
        {"patient", "add", "--sf-id", "001\x1b[31m", "--payer-id", "p1", "--refresh-token-file", "-"}, "token"
    );
    INFO(describe(result));
    CHECK(result.exit_code == 2);
    CHECK_FALSE(contains(result.err, "\x1b"));
}

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "service_test_support.hpp"
#include "store/database.hpp"

namespace {

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// A configuration file in a temporary folder whose database.path points into the same folder.
class cli_workspace
{
public:
    explicit cli_workspace(const std::string& extra_config = "")
        : database_path_((folder_.path() / "bbsync.db").string()),
          config_path_(
              folder_.write("bbsync.conf", "database.path = " + database_path_ + "\n" + extra_config).string()
          )
    {}

    // Runs bbsync --config CONFIG `arguments` through the shell, with an empty environment
    // apart from PATH, and returns its exit code and combined output.
    bbsync::test::command_result bbsync(const std::string& arguments) const
    {
        return bbsync::test::run_command(
            "env -i PATH=/usr/bin:/bin " + std::string(BBSYNC_EXECUTABLE) + " --config " + config_path_ +
            " " + arguments + " </dev/null"
        );
    }

    const std::string& database_path() const { return database_path_; }
    const bbsync::test::temp_folder& folder() const { return folder_; }

private:
    bbsync::test::temp_folder folder_;
    std::string database_path_;
    std::string config_path_;
};

// Adds patient `sf_id` through the CLI and returns its output for INFO.
std::string add_patient(const cli_workspace& workspace, const std::string& sf_id)
{
    const auto token = workspace.folder().write("token-" + sf_id, "refresh-token-" + sf_id + "\n");
    const auto result = workspace.bbsync(
        "patient add --sf-id " + sf_id + " --payer-id -2014000000" + sf_id.substr(sf_id.size() - 4) +
        " --refresh-token-file " + token.string()
    );
    REQUIRE(result.exit_code == 0);
    return result.output;
}

// Inserts `count` finished jobs for the patient, the first `unmirrored` of them with an
// outbox entry, as the sync engine would have left them.
void insert_jobs(const std::string& database_path, const std::string& sf_id, int count, int unmirrored)
{
    auto db = bbsync::store::database::open(database_path);
    for (int i = 0; i < count; ++i)
    {
        const auto job_id = sf_id + "-job-" + std::to_string(i);
        auto insert = db.prepare(
            "INSERT INTO sync_jobs (job_id, patient_key, sf_patient_id, trigger, status, start_time, "
            "end_time) "
            "SELECT ?1, patient_key, sf_patient_id, 'schedule', 'Completed', '2026-12-01T00:00:00.000Z', "
            "'2026-12-01T00:00:01.000Z' FROM patients WHERE sf_patient_id = ?2"
        );
        insert.bind(1, job_id).bind(2, sf_id);
        insert.execute();
        REQUIRE(db.changes() == 1);
        if (i < unmirrored)
        {
            auto outbox = db.prepare("INSERT INTO mirror_outbox (job_id, enqueued_at, next_attempt_at) "
                                     "VALUES (?1, '2026-12-01T00:00:01.000Z', '2026-12-01T00:00:01.000Z')");
            outbox.bind(1, job_id);
            outbox.execute();
        }
    }
}

std::int64_t count_rows(const std::string& database_path, const std::string& sql)
{
    auto db = bbsync::store::database::open(database_path);
    auto query = db.prepare(sql);
    REQUIRE(query.step());
    return query.column_int64(0);
}

}  // namespace

TEST_CASE("patient list reports a missing database", "[service]")
{
    cli_workspace workspace;
    const auto result = workspace.bbsync("patient list");
    INFO(result.output);
    CHECK(result.exit_code == 1);
    CHECK(contains(result.output, workspace.database_path()));
    CHECK(contains(result.output, "not found"));
    CHECK(contains(result.output, "bbsync db migrate"));
    CHECK_FALSE(std::filesystem::exists(workspace.database_path()));
}

TEST_CASE("jobs reports a missing database", "[service]")
{
    cli_workspace workspace;
    const auto result = workspace.bbsync("jobs --json");
    INFO(result.output);
    CHECK(result.exit_code == 1);
    CHECK(contains(result.output, workspace.database_path()));
    CHECK(contains(result.output, "bbsync db migrate"));
    CHECK_FALSE(std::filesystem::exists(workspace.database_path()));
}

TEST_CASE("patient remove reports a missing database", "[service]")
{
    cli_workspace workspace;
    const auto result = workspace.bbsync("patient remove --sf-id 001A000001");
    INFO(result.output);
    CHECK(result.exit_code == 1);
    CHECK(contains(result.output, "bbsync db migrate"));
    CHECK_FALSE(std::filesystem::exists(workspace.database_path()));
}

TEST_CASE("patient list rejects a file without the schema", "[service]")
{
    cli_workspace workspace;
    workspace.folder().write("bbsync.db", "");
    const auto result = workspace.bbsync("patient list");
    INFO(result.output);
    CHECK(result.exit_code == 1);
    CHECK(contains(result.output, "has no bbsync schema"));
    CHECK(contains(result.output, "bbsync db migrate"));
}

TEST_CASE("read-only commands work after db migrate", "[service]")
{
    cli_workspace workspace;
    const auto migrate = workspace.bbsync("db migrate");
    INFO(migrate.output);
    REQUIRE(migrate.exit_code == 0);

    const auto list = workspace.bbsync("patient list");
    INFO(list.output);
    CHECK(list.exit_code == 0);
    CHECK(contains(list.output, "sf_patient_id"));

    const auto jobs = workspace.bbsync("jobs --json");
    INFO(jobs.output);
    CHECK(jobs.exit_code == 0);
    CHECK(contains(jobs.output, "[]"));
}

TEST_CASE("patient remove keeps a patient with job history", "[service]")
{
    cli_workspace workspace;
    add_patient(workspace, "001A000001");
    insert_jobs(workspace.database_path(), "001A000001", 3, 1);

    const auto refused = workspace.bbsync("patient remove --sf-id 001A000001");
    INFO(refused.output);
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.output, "3 job(s)"));
    CHECK(contains(refused.output, "1 not yet mirrored"));
    CHECK(contains(refused.output, "--purge-history"));
    CHECK(count_rows(workspace.database_path(), "SELECT count(*) FROM patients") == 1);
    CHECK(count_rows(workspace.database_path(), "SELECT count(*) FROM sync_jobs") == 3);

    const auto purged = workspace.bbsync("patient remove --sf-id 001A000001 --purge-history");
    INFO(purged.output);
    CHECK(purged.exit_code == 0);
    CHECK(contains(purged.output, "removed patient 001A000001"));
    CHECK(count_rows(workspace.database_path(), "SELECT count(*) FROM patients") == 0);
    CHECK(count_rows(workspace.database_path(), "SELECT count(*) FROM sync_jobs") == 0);
    CHECK(count_rows(workspace.database_path(), "SELECT count(*) FROM mirror_outbox") == 0);
}

TEST_CASE("patient remove deletes a patient without history", "[service]")
{
    cli_workspace workspace;
    add_patient(workspace, "001A000002");
    const auto removed = workspace.bbsync("patient remove --sf-id 001A000002");
    INFO(removed.output);
    CHECK(removed.exit_code == 0);
    CHECK(count_rows(workspace.database_path(), "SELECT count(*) FROM patients") == 0);
}

TEST_CASE("purge-history is rejected for resync", "[service]")
{
    cli_workspace workspace;
    add_patient(workspace, "001A000003");
    const auto result = workspace.bbsync("patient resync --sf-id 001A000003 --purge-history");
    INFO(result.output);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, "unexpected argument '--purge-history'"));
}

TEST_CASE("invalid apiVersion names its file and line", "[service]")
{
    cli_workspace workspace("hcOrg.apiVersion = 60\n");
    const auto result = workspace.bbsync("config check");
    INFO(result.output);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, "hcOrg.apiVersion = \"60\" (" + workspace.folder().path().string()));
    CHECK(contains(result.output, "bbsync.conf:2)"));
}

TEST_CASE("invalid apiVersion names its environment variable", "[service]")
{
    cli_workspace workspace;
    const auto result = bbsync::test::run_command(
        "env -i PATH=/usr/bin:/bin BBSYNC_HCORG_APIVERSION=x " + std::string(BBSYNC_EXECUTABLE) +
        " --config " + (workspace.folder().path() / "bbsync.conf").string() + " config check </dev/null"
    );
    INFO(result.output);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, "hcOrg.apiVersion = \"x\" (environment"));
}

TEST_CASE("plain trigger listener off loopback names its line", "[service]")
{
    cli_workspace workspace("https.listen = 0.0.0.0:8443\n");
    const auto result = workspace.bbsync("config check");
    INFO(result.output);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, "https.listen = \"0.0.0.0:8443\" ("));
    CHECK(contains(result.output, "bbsync.conf:2)"));
    CHECK(contains(result.output, "plain HTTP is served only on loopback"));
}

TEST_CASE("invalid listener address names its line", "[service]")
{
    cli_workspace workspace("admin.listen = nowhere:80\n");
    const auto result = workspace.bbsync("config check");
    INFO(result.output);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, "admin.listen = \"nowhere:80\" ("));
    CHECK(contains(result.output, "bbsync.conf:2)"));
}

TEST_CASE("lone TLS key file names its line", "[service]")
{
    cli_workspace workspace("https.keyFile = /nonexistent/key.pem\n");
    const auto result = workspace.bbsync("config check");
    INFO(result.output);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, "https.keyFile at "));
    CHECK(contains(result.output, "bbsync.conf:2)"));
}

#ifndef BBSYNC_TESTS_INTEGRATION_BBSYNC_WORKSPACE_HPP
#define BBSYNC_TESTS_INTEGRATION_BBSYNC_WORKSPACE_HPP

#include <boost/json/array.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "sandbox_server.hpp"

namespace bbsync::integration_tests {

// One `bbsync` invocation as the test saw it.
struct bbsync_result
{
    int exit_code = -1;
    std::string output;
    // The file that contains this invocation's standard error.
    std::filesystem::path stderr_path;
};

// A configuration file and database for the real `bbsync` executable, pointed at one
// sandbox. Every invocation writes its standard error to its own file in ROOT/logs.
class bbsync_workspace
{
public:
    // Writes ROOT/bbsync.conf (mode 0600) with the sandbox's hosts, client credentials and
    // CA file, database ROOT/bbsync.db and the given log level. Throws std::runtime_error
    // when a file cannot be written.
    bbsync_workspace(
        const std::filesystem::path& root, const sandbox_server& sandbox, const std::string& log_level
    );

    // Runs `bbsync --config ROOT/bbsync.conf ARGUMENTS...` with `input` on standard input
    // and waits up to `timeout`. Returns the exit code and standard output. Throws
    // std::runtime_error when bbsync does not exit in time (it is killed first).
    bbsync_result run(
        const std::vector<std::string>& arguments,
        const std::string& input = {},
        std::chrono::seconds timeout = std::chrono::seconds(60)
    );

    // Runs `bbsync patient add` with the refresh token on standard input. Returns the result.
    bbsync_result add_patient(
        const std::string& sf_patient_id,
        const std::string& payer_patient_id,
        const std::string& refresh_token
    );

    // Adds every patient of the sandbox's patients.json with its original refresh token. Throws
    // std::runtime_error naming the patient and the log when `bbsync patient add` fails.
    void add_sandbox_patients(const sandbox_server& sandbox);

    // Returns the output of `bbsync jobs --json --limit 100000`, newest job first. Throws
    // std::runtime_error when bbsync fails or prints something that is not a JSON array.
    boost::json::array jobs();

    // Runs `sqlite3 DATABASE SQL` and returns its exit code and standard output. Throws
    // std::runtime_error when sqlite3 does not exit within 30 s.
    bbsync_result sqlite(const std::string& sql);

    // Makes every patient due now by moving next_sync_at into the past with sqlite3, as if
    // the sync interval had passed, without waiting for it. Throws std::runtime_error when
    // sqlite3 fails.
    void make_all_patients_due();

    // Appends `lines` ("key = value" lines, each ending in a newline) to ROOT/bbsync.conf,
    // removing earlier lines for the same keys, because bbsync rejects a key given twice.
    // Throws std::runtime_error when the file cannot be written.
    void append_config(const std::string& lines);

    const std::filesystem::path& database_path() const { return database_path_; }
    // The standard error files of every bbsync invocation so far, oldest first.
    const std::vector<std::filesystem::path>& stderr_files() const { return stderr_files_; }

private:
    std::filesystem::path root_;
    std::filesystem::path config_path_;
    std::filesystem::path database_path_;
    std::vector<std::filesystem::path> stderr_files_;
    int invocations_ = 0;
};

}  // namespace bbsync::integration_tests

#endif

#ifndef BBSYNC_TESTS_RELIABILITY_RELIABILITY_FLEET_HPP
#define BBSYNC_TESTS_RELIABILITY_RELIABILITY_FLEET_HPP

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../integration/bbsync_workspace.hpp"
#include "../integration/sandbox_server.hpp"
#include "../integration/temporary_directory.hpp"

namespace bbsync::reliability_tests {

// One run of the real bbsync executable started by reliability_fleet.
struct bbsync_run
{
    // The exit status, or 128 + signal number when a signal ended it.
    int exit_code = -1;
    std::filesystem::path stderr_path;
};

// A sandbox, a bbsync configuration and database in one temporary directory, with every
// sandbox patient registered. Unlike the integration workspace, bbsync can be started with
// extra environment variables (failpoints, LD_PRELOAD, NOTIFY_SOCKET) and killed at will.
class reliability_fleet
{
public:
    // Starts a sandbox with `patients` patients of `eobs_per_patient` EOBs and `seed`, writes
    // the configuration (pages of 10 EOBs, debug log, admin listener off, short timeouts plus
    // `extra_config`) and adds every patient. Throws std::runtime_error when a step fails.
    reliability_fleet(
        const std::string& name,
        int patients,
        int eobs_per_patient,
        int seed = 1,
        const std::string& extra_config = {}
    );

    // Starts `env ENVIRONMENT... bbsync --config CONF ARGUMENTS...` in its own process group
    // with standard error in its own log file. Returns the process id. Throws
    // std::runtime_error when fork fails.
    int start(
        const std::vector<std::string>& arguments,
        const std::vector<std::string>& environment = {},
        std::filesystem::path* stderr_path = nullptr
    );

    // Like start, then waits up to `timeout`. Throws std::runtime_error when bbsync is still
    // running at the deadline (after killing it).
    bbsync_run run(
        const std::vector<std::string>& arguments,
        const std::vector<std::string>& environment = {},
        std::chrono::seconds timeout = std::chrono::seconds(300)
    );

    // Kills the process group of `pid` with SIGKILL and reaps it. Returns the exit code.
    static int kill_now(int pid);

    // Replaces the sandbox's fault set (an empty list clears it). Throws std::runtime_error
    // when the sandbox rejects a spec.
    void set_faults(const std::vector<std::string>& specs) { sandbox.set_faults(specs); }

    // The latest value of `bbsync jobs --json`, newest job first.
    boost::json::array jobs() { return workspace.jobs(); }

    // Runs one SQL statement with the sqlite3 CLI and returns its standard output. Throws
    // std::runtime_error when sqlite3 exits non-zero.
    std::string sql(const std::string& statement);

    // Consent state per Salesforce patient id, read from the patients table.
    std::map<std::string, std::string> consent_states();

    std::string sf_id(std::size_t index) const;
    std::string payer_id(std::size_t index) const;

    // Every log file this fleet's bbsync runs wrote, oldest first.
    std::vector<std::filesystem::path> log_files() const;

    const std::filesystem::path& root() const { return directory.path(); }

    integration_tests::temporary_directory directory;
    integration_tests::sandbox_server sandbox;
    integration_tests::bbsync_workspace workspace;

private:
    std::filesystem::path config_path_;
    std::vector<std::filesystem::path> logs_;
    int runs_ = 0;
};

// Returns object[section][key] as an integer, or 0 when it is missing.
std::int64_t number_at(const boost::json::object& object, const char* section, const char* key);

// Returns object[key] as an integer, or 0 when it is missing.
std::int64_t number_at(const boost::json::object& object, const char* key);

// Returns object[key] as a string, or an empty string when it is missing or not a string.
std::string text_at(const boost::json::value& object, const char* key);

// Counts the rows of `rows` by the string value of `key`.
std::map<std::string, int> count_by(const boost::json::array& rows, const char* key);

// Returns the text of the file, or an empty string when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace bbsync::reliability_tests

#endif

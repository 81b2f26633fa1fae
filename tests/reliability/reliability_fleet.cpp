#include "reliability_fleet.hpp"

#include <boost/json/serialize.hpp>

#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "../integration/child_process.hpp"

namespace bbsync::reliability_tests {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using integration_tests::process_spec;

}  // namespace

reliability_fleet::reliability_fleet(
    const std::string& name, int patients, int eobs_per_patient, int seed, const std::string& extra_config
)
    : directory("bbsync-" + name), sandbox(directory.path(), patients, eobs_per_patient, seed),
      workspace(directory.path() / "bbsync", sandbox, "debug"),
      config_path_(directory.path() / "bbsync" / "bbsync.conf")
{
    workspace.append_config(
        "admin.listen = off\n"
        "http.readTimeout = 5\n"
        "http.requestTimeout = 10\n"
        "shutdown.gracePeriod = 5\n" +
        extra_config
    );
    for (std::size_t i = 0; i < sandbox.patients().size(); ++i)
    {
        const auto added = workspace.add_patient(sf_id(i), payer_id(i), sandbox.original_refresh_token(i));
        if (added.exit_code != 0)
        {
            throw std::runtime_error(
                "bbsync patient add failed for " + sf_id(i) + "; see " + added.stderr_path.string()
            );
        }
    }
}

int reliability_fleet::start(
    const std::vector<std::string>& arguments,
    const std::vector<std::string>& environment,
    fs::path* stderr_path
)
{
    const auto number = std::to_string(++runs_);
    process_spec spec;
    spec.arguments = {"/usr/bin/env"};
    spec.arguments.insert(spec.arguments.end(), environment.begin(), environment.end());
    spec.arguments.insert(spec.arguments.end(), {BBSYNC_EXECUTABLE, "--config", config_path_.string()});
    spec.arguments.insert(spec.arguments.end(), arguments.begin(), arguments.end());
    spec.stdout_path = root() / "bbsync" / "logs" / ("reliability-" + number + ".stdout");
    spec.stderr_path = root() / "bbsync" / "logs" / ("reliability-" + number + ".stderr");
    logs_.push_back(spec.stderr_path);
    if (stderr_path != nullptr)
    {
        *stderr_path = spec.stderr_path;
    }
    return integration_tests::start_process(spec);
}

bbsync_run reliability_fleet::run(
    const std::vector<std::string>& arguments,
    const std::vector<std::string>& environment,
    std::chrono::seconds timeout
)
{
    bbsync_run result;
    const int pid = start(arguments, environment, &result.stderr_path);
    result.exit_code = integration_tests::wait_for_exit(pid, timeout);
    if (result.exit_code == -1)
    {
        kill_now(pid);
        throw std::runtime_error(
            "bbsync did not exit within " + std::to_string(timeout.count()) + " s; see " +
            result.stderr_path.string()
        );
    }
    return result;
}

int reliability_fleet::kill_now(int pid)
{
    ::kill(-pid, SIGKILL);
    return integration_tests::wait_for_exit(pid, std::chrono::seconds(30));
}

std::string reliability_fleet::sql(const std::string& statement)
{
    const auto result = workspace.sqlite(statement);
    if (result.exit_code != 0)
    {
        throw std::runtime_error(
            "sqlite3 failed on \"" + statement +
            "\": " + integration_tests::read_text_file(result.stderr_path)
        );
    }
    return result.output;
}

std::map<std::string, std::string> reliability_fleet::consent_states()
{
    std::map<std::string, std::string> states;
    std::istringstream lines(sql("SELECT sf_patient_id || ' ' || consent_state FROM patients"));
    for (std::string line; std::getline(lines, line);)
    {
        const auto space = line.find(' ');
        if (space != std::string::npos)
        {
            states[line.substr(0, space)] = line.substr(space + 1);
        }
    }
    return states;
}

std::string reliability_fleet::sf_id(std::size_t index) const
{
    return std::string(sandbox.patients().at(index).at("sf_patient_id").as_string());
}

std::string reliability_fleet::payer_id(std::size_t index) const
{
    return std::string(sandbox.patients().at(index).at("payer_patient_id").as_string());
}

std::vector<fs::path> reliability_fleet::log_files() const
{
    auto files = workspace.stderr_files();
    files.insert(files.end(), logs_.begin(), logs_.end());
    return files;
}

std::int64_t number_at(const json::object& object, const char* section, const char* key)
{
    const auto* outer = object.if_contains(section);
    const auto* inner = outer != nullptr ? outer->if_object() : nullptr;
    const auto* value = inner != nullptr ? inner->if_contains(key) : nullptr;
    return value != nullptr && value->is_number() ? value->to_number<std::int64_t>() : 0;
}

std::int64_t number_at(const json::object& object, const char* key)
{
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_number() ? value->to_number<std::int64_t>() : 0;
}

std::string text_at(const json::value& object, const char* key)
{
    const auto* value = object.is_object() ? object.as_object().if_contains(key) : nullptr;
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
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

std::string read_file(const fs::path& path) { return integration_tests::read_text_file(path); }

}  // namespace bbsync::reliability_tests

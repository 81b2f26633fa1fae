#include "bbsync_workspace.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "child_process.hpp"

namespace bbsync::integration_tests {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string endpoint_of(const json::object& ready, const char* host)
{
    const auto& endpoint = ready.at(host).as_object();
    return std::string(endpoint.at("host").as_string()) + ":" +
           std::to_string(endpoint.at("port").to_number<int>());
}

std::string text_of(const json::object& ready, const char* key)
{
    return std::string(ready.at(key).as_string());
}

}  // namespace

bbsync_workspace::bbsync_workspace(
    const fs::path& root, const sandbox_server& sandbox, const std::string& log_level
)
    : root_(root), config_path_(root / "bbsync.conf"), database_path_(root / "bbsync.db")
{
    fs::create_directories(root_ / "logs");
    const auto& ready = sandbox.ready();

    // A page size of 10 makes a patient with 12 EOBs need two pages.
    const std::string config = "bluebuttonapi.host = " + endpoint_of(ready, "payer") + "\n" +
                               "bluebuttonapi.clientId = " + text_of(ready, "payer_client_id") + "\n" +
                               "bluebuttonapi.clientSecret = " + text_of(ready, "payer_client_secret") +
                               "\n" + "bluebuttonapi.eobEndpoint.count = 10\n" + "hcOrg.tokenUrl = https://" +
                               endpoint_of(ready, "salesforce") + "/services/oauth2/token\n" +
                               "hcOrg.client_id = " + text_of(ready, "sf_client_id") + "\n" +
                               "hcOrg.client_secret = " + text_of(ready, "sf_client_secret") + "\n" +
                               "bundle.host = " + endpoint_of(ready, "healthcloud") + "\n" +
                               "tls.caFile = " + text_of(ready, "ca_file") + "\n" +
                               "database.path = " + database_path_.string() + "\n" +
                               "log.level = " + log_level + "\n";
    write_private_file(config_path_, config);
}

void bbsync_workspace::append_config(const std::string& lines)
{
    // bbsync rejects a key given twice, so a line for a key already present replaces it.
    const auto key_of = [](const std::string& line) {
        auto key = line.substr(0, line.find('='));
        key.erase(key.find_last_not_of(" \t") + 1);
        key.erase(0, key.find_first_not_of(" \t"));
        return key;
    };
    std::istringstream added(lines);
    std::vector<std::string> replacements;
    for (std::string line; std::getline(added, line);)
    {
        replacements.push_back(line);
    }
    std::istringstream current(read_text_file(config_path_));
    std::string text;
    for (std::string line; std::getline(current, line);)
    {
        const bool replaced =
            std::any_of(replacements.begin(), replacements.end(), [&](const std::string& other) {
                return line.find('=') != std::string::npos && key_of(line) == key_of(other);
            });
        if (!replaced)
        {
            text += line + "\n";
        }
    }
    write_private_file(config_path_, text + lines);
}

bbsync_result bbsync_workspace::run(
    const std::vector<std::string>& arguments, const std::string& input, std::chrono::seconds timeout
)
{
    const auto number = std::to_string(++invocations_);
    process_spec spec;
    spec.arguments = {BBSYNC_EXECUTABLE, "--config", config_path_.string()};
    spec.arguments.insert(spec.arguments.end(), arguments.begin(), arguments.end());
    if (!input.empty())
    {
        spec.stdin_path = root_ / ("stdin-" + number);
        write_private_file(spec.stdin_path, input);
    }
    spec.stdout_path = root_ / "logs" / (number + ".stdout");
    spec.stderr_path = root_ / "logs" / (number + "-" + arguments.front() + ".stderr");
    spec.timeout = timeout;
    stderr_files_.push_back(spec.stderr_path);

    const auto result = run_process(spec);
    if (!spec.stdin_path.empty())
    {
        fs::remove(spec.stdin_path);
    }
    return {result.exit_code, result.output, spec.stderr_path};
}

bbsync_result bbsync_workspace::add_patient(
    const std::string& sf_patient_id, const std::string& payer_patient_id, const std::string& refresh_token
)
{
    return run(
        {"patient",
         "add",
         "--sf-id",
         sf_patient_id,
         "--payer-id",
         payer_patient_id,
         "--refresh-token-file",
         "-"},
        refresh_token + "\n"
    );
}

void bbsync_workspace::add_sandbox_patients(const sandbox_server& sandbox)
{
    for (std::size_t i = 0; i < sandbox.patients().size(); ++i)
    {
        const auto& patient = sandbox.patients().at(i).as_object();
        const std::string sf_patient_id(patient.at("sf_patient_id").as_string());
        const auto added = add_patient(
            sf_patient_id,
            std::string(patient.at("payer_patient_id").as_string()),
            sandbox.original_refresh_token(i)
        );
        if (added.exit_code != 0)
        {
            throw std::runtime_error(
                "bbsync patient add failed for " + sf_patient_id + "; see " + added.stderr_path.string()
            );
        }
    }
}

json::array bbsync_workspace::jobs()
{
    const auto result = run({"jobs", "--json", "--limit", "100000"});
    if (result.exit_code != 0)
    {
        throw std::runtime_error(
            "bbsync jobs --json exited with " + std::to_string(result.exit_code) + "; see " +
            result.stderr_path.string()
        );
    }
    boost::system::error_code ec;
    auto value = json::parse(result.output, ec);
    if (ec || !value.is_array())
    {
        throw std::runtime_error(
            "bbsync jobs --json did not print a JSON array: " + result.output.substr(0, 200)
        );
    }
    return value.as_array();
}

bbsync_result bbsync_workspace::sqlite(const std::string& sql)
{
    const auto number = std::to_string(++invocations_);
    process_spec spec;
    spec.arguments = {"/usr/bin/sqlite3", database_path_.string(), sql};
    spec.stdout_path = root_ / "logs" / (number + "-sqlite3.stdout");
    spec.stderr_path = root_ / "logs" / (number + "-sqlite3.stderr");
    spec.timeout = std::chrono::seconds(30);
    const auto result = run_process(spec);
    return {result.exit_code, result.output, spec.stderr_path};
}

void bbsync_workspace::make_all_patients_due()
{
    const auto result = sqlite("UPDATE patients SET next_sync_at = '2000-01-01T00:00:00.000Z'");
    if (result.exit_code != 0)
    {
        throw std::runtime_error(
            "sqlite3 could not update next_sync_at: " + read_text_file(result.stderr_path)
        );
    }
}

}  // namespace bbsync::integration_tests

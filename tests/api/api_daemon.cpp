#include "api_daemon.hpp"

#include <boost/json/parse.hpp>

#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#include "../integration/child_process.hpp"

namespace bbsync::api_tests {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

// Returns the port of the first "<component>: listening on http://127.0.0.1:PORT" log line.
std::uint16_t logged_port(const std::string& log, const std::string& component)
{
    const std::regex line(component + ": listening on https?://127\\.0\\.0\\.1:([0-9]+)");
    std::smatch match;
    if (!std::regex_search(log, match, line))
    {
        return 0;
    }
    return static_cast<std::uint16_t>(std::stoi(match[1].str()));
}

fs::path make_root()
{
    auto pattern = (fs::temp_directory_path() / "bbsync-api-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
    {
        throw std::runtime_error(
            "cannot create a temporary directory under " + fs::temp_directory_path().string()
        );
    }
    return pattern;
}

}  // namespace

api_daemon::api_daemon(const std::string& extra_config) : root_(make_root())
{
    sandbox_ = std::make_unique<integration_tests::sandbox_server>(root_, 2, 3);
    workspace_ = std::make_unique<integration_tests::bbsync_workspace>(root_ / "bbsync", *sandbox_, "info");

    // Step 1: exchange the first patient's refresh token, keep the access token for the
    // trigger API and register the patient with the rotated refresh token.
    const auto refreshed = sandbox_->refresh_payer_token(sandbox_->original_refresh_token(0));
    if (refreshed.status != 200)
    {
        throw std::runtime_error("the sandbox refused the refresh: HTTP " + std::to_string(refreshed.status));
    }
    const auto tokens = refreshed.json().as_object();
    access_token_ = std::string(tokens.at("access_token").as_string());
    const auto& patient = sandbox_->patients().at(0);
    const auto added = workspace_->add_patient(
        std::string(patient.at("sf_patient_id").as_string()),
        std::string(patient.at("payer_patient_id").as_string()),
        std::string(tokens.at("refresh_token").as_string())
    );
    if (added.exit_code != 0)
    {
        throw std::runtime_error("patient add failed; see " + added.stderr_path.string());
    }

    // Step 2: the scheduler must not sync the patient on its own during the test.
    const auto not_due = workspace_->sqlite("UPDATE patients SET next_sync_at = '2999-01-01T00:00:00.000Z';");
    if (not_due.exit_code != 0)
    {
        throw std::runtime_error("sqlite3 could not update the patients table");
    }

    // Step 3: listeners on ephemeral ports, the API key in a private file.
    const auto key_path = root_ / "api.key";
    integration_tests::write_private_file(key_path, std::string(api_key) + "\n");
    {
        std::ofstream config(root_ / "bbsync" / "bbsync.conf", std::ios::app);
        config << "admin.listen = 127.0.0.1:0\n"
               << "https.listen = 127.0.0.1:0\n"
               << "https.apiKeyFile = " << key_path.string() << "\n"
               << extra_config;
    }

    // Step 4: start the daemon and read the bound ports from its log.
    integration_tests::process_spec spec;
    spec.arguments = {BBSYNC_EXECUTABLE, "--config", (root_ / "bbsync" / "bbsync.conf").string(), "run"};
    spec.stdout_path = root_ / "daemon.stdout";
    log_path_ = root_ / "daemon.stderr";
    spec.stderr_path = log_path_;
    spec.timeout = std::chrono::seconds(600);
    pid_ = integration_tests::start_process(spec);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline)
    {
        const auto log = integration_tests::read_text_file(log_path_);
        admin_port_ = logged_port(log, "admin");
        trigger_port_ = logged_port(log, "api");
        if (admin_port_ != 0 && trigger_port_ != 0)
        {
            return;
        }
        if (integration_tests::wait_for_exit(pid_, 100ms) != -1)
        {
            pid_ = -1;
            throw std::runtime_error("bbsync run exited at start-up: " + log);
        }
    }
    throw std::runtime_error(
        "bbsync run did not log both listen addresses within 20 s; see " + log_path_.string()
    );
}

api_daemon::~api_daemon()
{
    if (pid_ > 0)
    {
        integration_tests::stop_process(pid_, 10s);
    }
    workspace_.reset();
    sandbox_.reset();
    std::error_code ignored;
    fs::remove_all(root_, ignored);
}

std::string api_daemon::registered_patient() const
{
    return std::string(sandbox_->patients().at(0).at("sf_patient_id").as_string());
}

curl_response api_daemon::admin(const http_exchange& exchange) const { return send(admin_port_, exchange); }

curl_response api_daemon::trigger(const http_exchange& exchange) const
{
    return send(trigger_port_, exchange);
}

curl_response api_daemon::trigger_tls(const http_exchange& exchange, const std::string& ca_file) const
{
    return send(trigger_port_, exchange, true, ca_file);
}

curl_response api_daemon::send(
    std::uint16_t port, const http_exchange& exchange, bool tls, const std::string& ca_file
) const
{
    const auto call = root_ / ("call-" + std::to_string(++calls_));
    integration_tests::process_spec spec;
    spec.arguments = {
        "/usr/bin/curl",
        "--silent",
        "--show-error",
        "--noproxy",
        "*",
        "--max-time",
        "20",
        "--request",
        exchange.method,
        "--output",
        call.string() + ".body",
        "--write-out",
        "%{http_code}",
    };
    for (const auto& header : exchange.headers)
    {
        spec.arguments.insert(spec.arguments.end(), {"--header", header});
    }
    if (!exchange.body.empty())
    {
        integration_tests::write_private_file(call.string() + ".request", exchange.body);
        spec.arguments.insert(
            spec.arguments.end(),
            {"--header", "Content-Type: application/json", "--data-binary", "@" + call.string() + ".request"}
        );
    }
    if (tls && !ca_file.empty())
    {
        spec.arguments.insert(spec.arguments.end(), {"--cacert", ca_file});
    }
    spec.arguments.push_back(
        std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + exchange.path
    );
    spec.stdout_path = call.string() + ".status";
    spec.stderr_path = call.string() + ".stderr";
    spec.timeout = std::chrono::seconds(30);
    const auto result = integration_tests::run_process(spec);
    if (result.exit_code != 0)
    {
        throw std::runtime_error(
            "curl exited with " + std::to_string(result.exit_code) + " for " + exchange.path + ": " +
            integration_tests::read_text_file(spec.stderr_path)
        );
    }
    curl_response response;
    response.status = std::stoi(result.output);
    response.body = integration_tests::read_text_file(call.string() + ".body");
    return response;
}

curl_response api_daemon::wait_for_job(const std::string& job_id) const
{
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    curl_response last;
    while (std::chrono::steady_clock::now() < deadline)
    {
        last = trigger(
            {"GET",
             std::string(prefix) + "jobs/" + job_id,
             {std::string("Authorization: Bearer ") + api_key},
             {}}
        );
        if (last.status == 200 && !last.json().as_object().at("endTime").is_null())
        {
            return last;
        }
        std::this_thread::sleep_for(200ms);
    }
    return last;
}

}  // namespace bbsync::api_tests

#ifndef BBSYNC_TESTS_API_API_DAEMON_HPP
#define BBSYNC_TESTS_API_API_DAEMON_HPP

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../integration/bbsync_workspace.hpp"
#include "../integration/sandbox_server.hpp"

namespace bbsync::api_tests {

using integration_tests::curl_response;

// A response from the daemon's own listeners, read with curl.
struct http_exchange
{
    std::string method = "GET";
    std::string path;
    std::vector<std::string> headers;
    // Sent as the body through a file when not empty.
    std::string body;
};

// A sandbox, a bbsync workspace with registered patients that are not due, and `bbsync run`
// with the admin endpoint and the trigger API on ephemeral ports of 127.0.0.1.
class api_daemon
{
public:
    // API key the trigger API accepts.
    static constexpr const char* api_key = "test-api-key-0123456789";

    // Starts the sandbox with two patients of three EOBs, registers the first with a rotated
    // refresh token (keeping its access token for requests), writes `extra_config` lines into
    // bbsync.conf and starts `bbsync run`. Waits up to 20 s for both listeners. Throws
    // std::runtime_error when a step fails.
    explicit api_daemon(const std::string& extra_config = {});
    ~api_daemon();
    api_daemon(const api_daemon&) = delete;
    api_daemon& operator=(const api_daemon&) = delete;

    // Sends a request to the admin endpoint or the trigger API. Throws std::runtime_error
    // when curl fails.
    curl_response admin(const http_exchange& exchange) const;
    curl_response trigger(const http_exchange& exchange) const;

    // Sends a request to the trigger API over HTTPS, verifying the server certificate against
    // `ca_file`, or against curl's default trust store when `ca_file` is empty. Throws
    // std::runtime_error when curl fails, including when verification fails.
    curl_response trigger_tls(const http_exchange& exchange, const std::string& ca_file) const;

    // Polls GET jobs/{id} until the job has an end time, for up to 60 s. Returns the last
    // response.
    curl_response wait_for_job(const std::string& job_id) const;

    std::string registered_patient() const;
    const std::string& access_token() const { return access_token_; }
    integration_tests::sandbox_server& sandbox() { return *sandbox_; }
    integration_tests::bbsync_workspace& workspace() { return *workspace_; }
    const std::filesystem::path& log_path() const { return log_path_; }

    // The trigger API path prefix with the default https.entryPath.
    static constexpr const char* prefix = "/blue-button/v2/";

private:
    // Sends with curl over http://, or over https:// when `tls` is set; `ca_file` as for
    // trigger_tls.
    curl_response send(
        std::uint16_t port, const http_exchange& exchange, bool tls = false, const std::string& ca_file = {}
    ) const;

    std::filesystem::path root_;
    std::unique_ptr<integration_tests::sandbox_server> sandbox_;
    std::unique_ptr<integration_tests::bbsync_workspace> workspace_;
    std::string access_token_;
    std::filesystem::path log_path_;
    int pid_ = -1;
    std::uint16_t admin_port_ = 0;
    std::uint16_t trigger_port_ = 0;
    mutable int calls_ = 0;
};

}  // namespace bbsync::api_tests

#endif

#ifndef BBSYNC_TESTS_INTEGRATION_SANDBOX_SERVER_HPP
#define BBSYNC_TESTS_INTEGRATION_SANDBOX_SERVER_HPP

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bbsync::integration_tests {

// A response that curl received.
struct curl_response
{
    int status = 0;
    std::string body;

    // Returns the body parsed as JSON. Throws std::runtime_error when it is not JSON.
    boost::json::value json() const;
};

// A bbsync-sandbox process with its own state directory under `root`. The constructor starts
// it and waits for sandbox.json; the destructor stops it with SIGTERM, then SIGKILL.
class sandbox_server
{
public:
    // Starts `bbsync-sandbox --state-dir ROOT/sandbox --patients P --eobs-per-patient E
    // --seed S` with its standard error in ROOT/sandbox.log, and waits up to 20 s for
    // sandbox.json. Throws std::runtime_error when the sandbox exits or is not ready in time.
    // `extra` is appended to the command line, e.g. {"--mode", "carin"}.
    sandbox_server(
        const std::filesystem::path& root,
        int patients,
        int eobs_per_patient,
        int seed = 1,
        std::vector<std::string> extra = {}
    );
    ~sandbox_server();
    sandbox_server(const sandbox_server&) = delete;
    sandbox_server& operator=(const sandbox_server&) = delete;

    // Sends a GET with curl to "payer", "salesforce" or "healthcloud". Returns the status and
    // body. Throws std::runtime_error when curl fails or times out.
    curl_response get(const std::string& host, const std::string& target) const;

    // Sends a POST with `form` (already form-encoded, may be empty) as the
    // application/x-www-form-urlencoded body. The body goes through a file, so secrets never
    // appear on a command line. Throws std::runtime_error when curl fails or times out.
    curl_response post_form(const std::string& host, const std::string& target, const std::string& form)
        const;

    // Exchanges a payer refresh token with the sandbox's client credentials.
    // Throws like post_form.
    curl_response refresh_payer_token(const std::string& refresh_token) const;

    // Replaces the fault set with `specs` (an empty list clears it). Throws std::runtime_error
    // naming the sandbox's response when it rejects a spec.
    void set_faults(const std::vector<std::string>& specs) const;

    // Returns GET /_sandbox/state. Throws std::runtime_error when it is not a JSON object.
    boost::json::object state() const;

    // The parsed sandbox.json and patients.json.
    const boost::json::object& ready() const { return ready_; }
    const boost::json::array& patients() const { return patients_; }

    // The initial refresh token of patient `index` (0-based) from patients.json.
    std::string original_refresh_token(std::size_t index) const;

private:
    curl_response curl(const std::string& host, const std::string& target, const std::string* form) const;

    std::filesystem::path root_;
    std::filesystem::path state_dir_;
    int pid_ = -1;
    boost::json::object ready_;
    boost::json::array patients_;
    mutable int curl_calls_ = 0;
};

// Returns `text` percent-encoded for an application/x-www-form-urlencoded body.
std::string form_encode(const std::string& text);

// Returns the file's content, or an empty string when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// Writes `text` to a new file that only the owner can read and write. Throws
// std::runtime_error when the file cannot be written.
void write_private_file(const std::filesystem::path& path, const std::string& text);

}  // namespace bbsync::integration_tests

#endif

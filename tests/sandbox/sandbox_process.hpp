#ifndef BBSYNC_TESTS_SANDBOX_SANDBOX_PROCESS_HPP
#define BBSYNC_TESTS_SANDBOX_SANDBOX_PROCESS_HPP

#include <boost/json/value.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace bbsync::tests {

// A response as the test client saw it.
struct http_result
{
    unsigned status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    // Returns the body parsed as JSON; throws std::runtime_error when it is not JSON.
    boost::json::value json() const;

    // Returns the value of a header, or an empty string.
    std::string header(const std::string& name) const;
};

// A bbsync-sandbox process in a temporary state directory, started by the constructor and
// stopped with SIGTERM by the destructor.
class sandbox_process
{
public:
    // Starts the sandbox with the given extra arguments and waits up to 20 s for
    // sandbox.json. Throws std::runtime_error when it does not become ready.
    explicit sandbox_process(std::vector<std::string> extra_arguments = {});
    ~sandbox_process();
    sandbox_process(const sandbox_process&) = delete;
    sandbox_process& operator=(const sandbox_process&) = delete;

    // Sends SIGTERM and returns the exit status (or -1 when it did not exit normally).
    int stop();

    // Sends one HTTPS request (new connection, CA verified) to "payer", "salesforce" or
    // "healthcloud". Throws boost::system::system_error on transport failures.
    http_result request(
        const std::string& host,
        const std::string& method,
        const std::string& target,
        const std::string& body = {},
        const std::vector<std::pair<std::string, std::string>>& headers = {}
    ) const;

    // Convenience wrappers for the common calls.
    http_result payer_token(const std::string& refresh_token) const;
    std::string payer_access_token(std::size_t patient_index);
    std::string salesforce_token() const;
    http_result get_with_token(const std::string& host, const std::string& target, const std::string& token)
        const;
    boost::json::object state() const;

    const boost::json::object& ready() const { return ready_; }
    const boost::json::array& patients() const { return patients_; }
    const std::filesystem::path& state_dir() const { return state_dir_; }
    std::uint16_t port(const std::string& host) const;

private:
    std::filesystem::path state_dir_;
    pid_t pid_ = -1;
    boost::json::object ready_;
    boost::json::array patients_;
    std::vector<std::string> refresh_tokens_;
};

// Returns a form-urlencoded component.
std::string form_encode(const std::string& text);

}  // namespace bbsync::tests

#endif

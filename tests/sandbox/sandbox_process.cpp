#include "sandbox_process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <openssl/ssl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>

namespace bbsync::tests {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace ssl = boost::asio::ssl;

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

json::value http_result::json() const
{
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec)
        throw std::runtime_error(
            "response body is not JSON (status " + std::to_string(status) + "): " + body.substr(0, 200)
        );
    return value;
}

std::string http_result::header(const std::string& name) const
{
    for (const auto& [key, value] : headers)
    {
        if (key == name)
            return value;
    }
    return {};
}

std::string form_encode(const std::string& text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text)
    {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else
        {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

sandbox_process::sandbox_process(std::vector<std::string> extra_arguments)
{
    char pattern[] = "/tmp/bbsync-sandbox-test-XXXXXX";
    if (::mkdtemp(pattern) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    state_dir_ = std::filesystem::path(pattern) / "state";

    std::vector<std::string> arguments{BBSYNC_SANDBOX_EXECUTABLE, "--state-dir", state_dir_.string()};
    arguments.insert(arguments.end(), extra_arguments.begin(), extra_arguments.end());
    pid_ = ::fork();
    if (pid_ == 0)
    {
        // The sandbox must not outlive a test process that crashed.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        std::vector<char*> argv;
        for (auto& argument : arguments)
            argv.push_back(argument.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        std::_Exit(127);
    }

    // Ready when sandbox.json exists.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!std::filesystem::exists(state_dir_ / "sandbox.json"))
    {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_)
        {
            pid_ = -1;
            throw std::runtime_error("bbsync-sandbox exited before it was ready");
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("bbsync-sandbox did not write sandbox.json within 20 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ready_ = json::parse(read_file(state_dir_ / "sandbox.json")).as_object();
    patients_ = json::parse(read_file(state_dir_ / "patients.json")).as_array();
    for (const auto& patient : patients_)
        refresh_tokens_.emplace_back(patient.at("refresh_token").as_string());
}

sandbox_process::~sandbox_process()
{
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(state_dir_.parent_path(), ignored);
}

int sandbox_process::stop()
{
    if (pid_ <= 0)
        return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::uint16_t sandbox_process::port(const std::string& host) const
{
    return static_cast<std::uint16_t>(ready_.at(host).at("port").as_int64());
}

http_result sandbox_process::request(
    const std::string& host,
    const std::string& method,
    const std::string& target,
    const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers
) const
{
    asio::io_context io;
    ssl::context context(ssl::context::tls_client);
    context.load_verify_file(std::string(ready_.at("ca_file").as_string()));
    context.set_verify_mode(ssl::verify_peer);
    ssl::stream<asio::ip::tcp::socket> stream(io, context);
    stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port(host)});
    stream.handshake(ssl::stream_base::client);

    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers)
        request.set(name, value);
    request.body() = body;
    if (!body.empty() || method == "POST" || method == "PATCH")
        request.prepare_payload();
    http::write(stream, request);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    const auto& response = parser.get();
    http_result result;
    result.status = response.result_int();
    result.body = response.body();
    for (const auto& field : response)
        result.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    boost::system::error_code ignored;
    stream.shutdown(ignored);
    return result;
}

http_result sandbox_process::payer_token(const std::string& refresh_token) const
{
    return request(
        "payer",
        "POST",
        "/v2/o/token/",
        "grant_type=refresh_token&refresh_token=" + form_encode(refresh_token) +
            "&client_id=bbsync-sandbox-app&client_secret=sandbox-payer-secret",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
}

std::string sandbox_process::payer_access_token(std::size_t patient_index)
{
    const auto result = payer_token(refresh_tokens_.at(patient_index));
    if (result.status != 200)
        throw std::runtime_error(
            "refresh failed with status " + std::to_string(result.status) + ": " + result.body
        );
    const auto body = result.json();
    refresh_tokens_.at(patient_index) = std::string(body.at("refresh_token").as_string());
    return std::string(body.at("access_token").as_string());
}

std::string sandbox_process::salesforce_token() const
{
    const auto result = request(
        "salesforce",
        "POST",
        "/services/oauth2/token",
        "grant_type=client_credentials&client_id=bbsync-sandbox-connected-app&client_secret=sandbox-sf-"
        "secret",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    if (result.status != 200)
        throw std::runtime_error("Salesforce token request failed: " + result.body);
    return std::string(result.json().at("access_token").as_string());
}

http_result sandbox_process::get_with_token(
    const std::string& host, const std::string& target, const std::string& token
) const
{
    return request(host, "GET", target, {}, {{"Authorization", "Bearer " + token}});
}

json::object sandbox_process::state() const
{
    return request("payer", "GET", "/_sandbox/state").json().as_object();
}

}  // namespace bbsync::tests

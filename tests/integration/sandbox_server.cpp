#include "sandbox_server.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>

#include "child_process.hpp"

namespace bbsync::integration_tests {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::chrono::seconds ready_timeout{20};
constexpr std::chrono::milliseconds stop_grace{5000};
constexpr std::chrono::seconds curl_timeout{15};

json::value parse_json(const std::string& text, const std::string& origin)
{
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec)
    {
        throw std::runtime_error(origin + " is not valid JSON: " + ec.message());
    }
    return value;
}

}  // namespace

json::value curl_response::json() const
{
    return parse_json(body, "the response body (status " + std::to_string(status) + ")");
}

std::string form_encode(const std::string& text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string encoded;
    for (const unsigned char c : text)
    {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~')
        {
            encoded += static_cast<char>(c);
        }
        else
        {
            encoded += '%';
            encoded += hex[c >> 4];
            encoded += hex[c & 15];
        }
    }
    return encoded;
}

std::string read_text_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_private_file(const fs::path& path, const std::string& text)
{
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out)
        {
            throw std::runtime_error(
                "failed to write " + path.string() + ": check free space and permissions"
            );
        }
    }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

sandbox_server::sandbox_server(
    const fs::path& root, int patients, int eobs_per_patient, int seed, std::vector<std::string> extra
)
    : root_(root), state_dir_(root / "sandbox")
{
    process_spec spec;
    spec.arguments = {
        BBSYNC_SANDBOX_EXECUTABLE,
        "--state-dir",
        state_dir_.string(),
        "--patients",
        std::to_string(patients),
        "--eobs-per-patient",
        std::to_string(eobs_per_patient),
        "--seed",
        std::to_string(seed),
    };
    spec.arguments.insert(spec.arguments.end(), extra.begin(), extra.end());
    spec.stderr_path = root_ / "sandbox.log";
    pid_ = start_process(spec);

    // sandbox.json is renamed into place last, so its presence means every port listens.
    const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
    while (!fs::exists(state_dir_ / "sandbox.json"))
    {
        if (wait_for_exit(pid_, std::chrono::milliseconds(20)) >= 0)
        {
            pid_ = -1;
            throw std::runtime_error(
                "bbsync-sandbox exited before it was ready; see " + spec.stderr_path.string()
            );
        }
        if (std::chrono::steady_clock::now() > deadline)
        {
            stop_process(pid_, stop_grace);
            pid_ = -1;
            throw std::runtime_error("bbsync-sandbox did not write sandbox.json within 20 s");
        }
    }
    ready_ = parse_json(read_text_file(state_dir_ / "sandbox.json"), "sandbox.json").as_object();
    patients_ = parse_json(read_text_file(state_dir_ / "patients.json"), "patients.json").as_array();
}

sandbox_server::~sandbox_server() { stop_process(pid_, stop_grace); }

void sandbox_server::set_faults(const std::vector<std::string>& specs) const
{
    boost::json::array list;
    for (const auto& spec : specs)
    {
        list.emplace_back(spec);
    }
    // The fault endpoint reads its body as JSON whatever its Content-Type header declares.
    const auto response =
        post_form("payer", "/_sandbox/faults", boost::json::serialize(boost::json::object{{"faults", list}}));
    if (response.status != 200)
    {
        throw std::runtime_error("POST /_sandbox/faults returned " + response.body);
    }
}

std::string sandbox_server::original_refresh_token(std::size_t index) const
{
    return std::string(patients_.at(index).at("refresh_token").as_string());
}

curl_response sandbox_server::curl(
    const std::string& host, const std::string& target, const std::string* form
) const
{
    const auto& endpoint = ready_.at(host).as_object();
    const auto url = "https://" + std::string(endpoint.at("host").as_string()) + ":" +
                     std::to_string(endpoint.at("port").to_number<int>()) + target;
    const auto call = root_ / ("curl-" + std::to_string(++curl_calls_));

    process_spec spec;
    spec.arguments = {
        "/usr/bin/curl",
        "--silent",
        "--show-error",
        "--noproxy",
        "*",
        "--cacert",
        std::string(ready_.at("ca_file").as_string()),
        "--max-time",
        std::to_string(curl_timeout.count() - 5),
        "--output",
        call.string() + ".body",
        "--write-out",
        "%{http_code}",
    };
    if (form != nullptr)
    {
        write_private_file(call.string() + ".form", *form);
        spec.arguments.insert(
            spec.arguments.end(),
            {"--header",
             "Content-Type: application/x-www-form-urlencoded",
             "--data-binary",
             "@" + call.string() + ".form"}
        );
    }
    spec.arguments.push_back(url);
    spec.stdout_path = call.string() + ".status";
    spec.stderr_path = call.string() + ".stderr";
    spec.timeout = curl_timeout;

    const auto result = run_process(spec);
    if (result.exit_code != 0)
    {
        throw std::runtime_error(
            "curl exited with " + std::to_string(result.exit_code) + " for " + target + ": " +
            read_text_file(spec.stderr_path)
        );
    }
    curl_response response;
    response.status = std::stoi(result.output);
    response.body = read_text_file(call.string() + ".body");
    return response;
}

curl_response sandbox_server::get(const std::string& host, const std::string& target) const
{
    return curl(host, target, nullptr);
}

curl_response sandbox_server::post_form(
    const std::string& host, const std::string& target, const std::string& form
) const
{
    return curl(host, target, &form);
}

curl_response sandbox_server::refresh_payer_token(const std::string& refresh_token) const
{
    const auto form =
        "grant_type=refresh_token&refresh_token=" + form_encode(refresh_token) +
        "&client_id=" + form_encode(std::string(ready_.at("payer_client_id").as_string())) +
        "&client_secret=" + form_encode(std::string(ready_.at("payer_client_secret").as_string()));
    return post_form("payer", "/v2/o/token/", form);
}

json::object sandbox_server::state() const
{
    const auto response = get("payer", "/_sandbox/state");
    if (response.status != 200)
    {
        throw std::runtime_error("GET /_sandbox/state returned status " + std::to_string(response.status));
    }
    return response.json().as_object();
}

}  // namespace bbsync::integration_tests

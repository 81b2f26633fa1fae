#include "sandbox/options.hpp"

#include <charconv>
#include <limits>
#include <string_view>

namespace bbsync::sandbox {
namespace {

constexpr int max_patients = 100000;
constexpr int max_eobs_per_patient = 10000;
constexpr int max_token_lifetime = 31 * 24 * 3600;
// Salesforce allows session timeouts of up to 24 hours.
constexpr int max_session_lifetime = 24 * 3600;
constexpr std::uint64_t max_daily_api_limit = 1000000;

template <class Integer>
bool parse_integer(std::string_view text, Integer min, Integer max, Integer& out)
{
    Integer value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value < min || value > max)
        return false;
    out = value;
    return true;
}

std::string range_error(std::string_view option, std::string_view value, std::string_view range)
{
    return "invalid value '" + std::string(value) + "' for " + std::string(option) + ": expected " +
           std::string(range);
}

}  // namespace

parse_outcome parse_options(int argc, const char* const* argv)
{
    options result;
    bool have_state_dir = false;
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h")
            return help_requested{};

        // Accept both "--name value" and "--name=value".
        std::string_view name = arg;
        std::string_view value;
        bool has_value = false;
        if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos)
        {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            has_value = true;
        }
        const bool known = name == "--state-dir" || name == "--patients" || name == "--eobs-per-patient" ||
                           name == "--seed" || name == "--access-token-lifetime" || name == "--fault" ||
                           name == "--sf-session-lifetime" || name == "--sf-daily-api-limit" ||
                           name == "--expires-in-format" || name == "--payer-app-type" ||
                           name == "--dc-token-lifetime" || name == "--mode";
        if (!known)
            return invalid_options{"unknown option '" + std::string(arg) + "': run with --help for the list"};
        if (!has_value)
        {
            if (i + 1 >= argc)
                return invalid_options{"missing value for " + std::string(name) + ": run with --help"};
            value = argv[++i];
        }

        if (name == "--state-dir")
        {
            if (value.empty())
                return invalid_options{"invalid value '' for --state-dir: expected a directory path"};
            result.state_dir = std::filesystem::path(value);
            have_state_dir = true;
        }
        else if (name == "--patients")
        {
            if (!parse_integer(value, 1, max_patients, result.patients))
                return invalid_options{range_error(name, value, "an integer from 1 to 100000")};
        }
        else if (name == "--eobs-per-patient")
        {
            if (!parse_integer(value, 0, max_eobs_per_patient, result.eobs_per_patient))
                return invalid_options{range_error(name, value, "an integer from 0 to 10000")};
        }
        else if (name == "--seed")
        {
            if (!parse_integer(
                    value, std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max(), result.seed
                ))
                return invalid_options{range_error(name, value, "an integer from 0 to 18446744073709551615")};
        }
        else if (name == "--sf-session-lifetime")
        {
            if (!parse_integer(value, 1, max_session_lifetime, result.sf_session_lifetime_seconds))
                return invalid_options{range_error(name, value, "a number of seconds from 1 to 86400")};
        }
        else if (name == "--sf-daily-api-limit")
        {
            if (!parse_integer(value, std::uint64_t{1}, max_daily_api_limit, result.sf_daily_api_limit))
                return invalid_options{range_error(name, value, "an integer from 1 to 1000000")};
        }
        else if (name == "--payer-app-type")
        {
            if (value != "thirteen-month" && value != "one-time")
                return invalid_options{range_error(name, value, "thirteen-month or one-time")};
            result.payer_one_time_app = value == "one-time";
        }
        else if (name == "--expires-in-format")
        {
            if (value != "integer" && value != "fractional")
                return invalid_options{range_error(name, value, "integer or fractional")};
            result.fractional_expires_in = value == "fractional";
        }
        else if (name == "--dc-token-lifetime")
        {
            if (!parse_integer(value, 1, max_token_lifetime, result.dc_token_lifetime_seconds))
                return invalid_options{range_error(name, value, "a number of seconds from 1 to 2678400")};
        }
        else if (name == "--mode")
        {
            if (value != "bluebutton" && value != "carin")
                return invalid_options{range_error(name, value, "bluebutton or carin")};
            result.mode = value == "carin" ? payer_mode::carin : payer_mode::bluebutton;
        }
        else if (name == "--fault")
        {
            auto parsed = parse_fault_spec(value);
            if (auto* message = std::get_if<std::string>(&parsed))
                return invalid_options{"--fault: " + *message};
            result.faults.push_back(std::get<fault_spec>(std::move(parsed)));
        }
        else
        {
            if (!parse_integer(value, 1, max_token_lifetime, result.access_token_lifetime_seconds))
                return invalid_options{range_error(name, value, "a number of seconds from 1 to 2678400")};
        }
    }
    if (!have_state_dir)
        return invalid_options{
            "missing --state-dir: give the directory for ca.pem, patients.json and sandbox.json"};
    return result;
}

std::string help_text()
{
    return std::string(
               "Usage: bbsync-sandbox --state-dir DIR [options]\n"
               "\n"
               "Local HTTPS emulator of the Blue Button 2.0 API or a CARIN Blue Button payer API\n"
               "(payer), the Salesforce login and REST API (salesforce), the Salesforce Healthcare\n"
               "API (healthcloud) and the Data Cloud Ingestion API (datacloud), on four ephemeral\n"
               "ports of 127.0.0.1. It writes DIR/ca.pem, DIR/patients.json and, once ready,\n"
               "DIR/sandbox.json, then serves until SIGTERM or SIGINT.\n"
               "\n"
               "Data Cloud: POST /services/oauth2/token on salesforce also takes grant_type=password\n"
               "with dc_username and dc_password of sandbox.json, POST /services/a360/token exchanges\n"
               "that token for a tenant token, and POST /api/v1/ingest/sources/BlueButtonClaim/{object}\n"
               "on datacloud takes {\"data\": [records]} checked against the BlueButtonClaim schema.\n"
               "GET /_sandbox/state on any port reports them under \"datacloud\".\n"
               "\n"
               "Options:\n"
               "  --state-dir DIR                  directory for the files above; created if missing "
               "(required)\n"
               "  --patients N                     number of synthetic patients, 1 to 100000 (default 10)\n"
               "  --eobs-per-patient M             ExplanationOfBenefit resources per patient, 0 to 10000\n"
               "                                   (default 20)\n"
               "  --seed S                         seed of the generated data and tokens, 0 to 2^64-1\n"
               "                                   (default 1)\n"
               "  --access-token-lifetime SECONDS  lifetime of payer access tokens, 1 to 2678400\n"
               "                                   (default 3600)\n"
               "  --payer-app-type TYPE            thirteen-month or one-time; a one-time app gets 403\n"
               "                                   invalid_client on every refresh (default thirteen-month)\n"
               "  --expires-in-format FORMAT       integer or fractional: how the payer token response\n"
               "                                   writes expires_in; fractional sends the lifetime minus\n"
               "                                   0.5 s as a decimal number (default integer)\n"
               "  --sf-session-lifetime SECONDS    lifetime of Salesforce sessions, 1 to 86400; a request\n"
               "                                   with an expired one gets 401 INVALID_SESSION_ID\n"
               "                                   (default: sessions never expire)\n"
               "  --sf-daily-api-limit N           Salesforce REST calls allowed per rolling 24 hours,\n"
               "                                   1 to 1000000; more get 403 REQUEST_LIMIT_EXCEEDED\n"
               "                                   (default 100000)\n"
               "  --mode MODE                      bluebutton or carin: the payer emulates Blue Button 2.0,\n"
               "                                   or a CARIN Blue Button health plan with opaque EOB\n"
               "                                   paging, Coverage?patient= only and Practitioner and\n"
               "                                   Organization reads (default bluebutton)\n"
               "  --dc-token-lifetime SECONDS      lifetime of Data Cloud tenant tokens from\n"
               "                                   /services/a360/token, 1 to 2678400; later ingestion\n"
               "                                   calls with one get 401 (default 7200)\n"
               "  --fault SPEC                     inject a fault into matching requests; repeatable, see\n"
               "                                   below; POST /_sandbox/faults replaces the set at run "
               "time\n"
               "  --help                           print this text and exit\n"
               "\n"
           ) +
           std::string(fault_spec_syntax());
}

}  // namespace bbsync::sandbox

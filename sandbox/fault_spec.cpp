#include "sandbox/fault_spec.hpp"

#include <array>
#include <charconv>
#include <cstdlib>
#include <utility>
#include <vector>

namespace bbsync::sandbox {
namespace {

constexpr std::int64_t max_milliseconds = 3'600'000;
constexpr std::int64_t max_retry_after_seconds = 7 * 24 * 3600;

struct action_name
{
    std::string_view name;
    fault_action action;
};

constexpr std::array<action_name, 16> action_names{{
    {"status", fault_action::status},
    {"delay", fault_action::delay},
    {"stall", fault_action::stall},
    {"trickle", fault_action::trickle},
    {"reset", fault_action::reset},
    {"close_no_notify", fault_action::close_no_notify},
    {"truncate", fault_action::truncate},
    {"malformed_json", fault_action::malformed_json},
    {"next_loop", fault_action::next_loop},
    {"next_foreign", fault_action::next_foreign},
    {"big_page", fault_action::big_page},
    {"connection_close", fault_action::connection_close},
    {"idle_close", fault_action::idle_close},
    {"latency", fault_action::latency},
    {"invalid_session", fault_action::invalid_session},
    {"entry_400", fault_action::entry_400},
}};

std::vector<std::string_view> split(std::string_view text, char separator)
{
    std::vector<std::string_view> parts;
    for (;;)
    {
        const auto at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos)
            return parts;
        text.remove_prefix(at + 1);
    }
}

bool parse_int(std::string_view text, std::int64_t min, std::int64_t max, std::int64_t& out)
{
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value < min || value > max)
        return false;
    out = value;
    return true;
}

bool parse_probability(std::string_view text, double& out)
{
    // std::from_chars for double is available in libstdc++ 12.
    double value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || !(value >= 0.0 && value <= 1.0))
        return false;
    out = value;
    return true;
}

// Parses "SELECTOR" into the spec. Returns an error message or an empty string.
std::string parse_selector(std::string_view text, fault_spec& spec)
{
    const auto eq = text.find('=');
    const auto name = text.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view{} : text.substr(eq + 1);
    std::int64_t number = 0;
    if (text == "all")
        spec.selector = fault_selector::all;
    else if (name == "every" && parse_int(value, 1, 1'000'000'000, number))
    {
        spec.selector = fault_selector::every;
        spec.count = static_cast<std::uint64_t>(number);
    }
    else if (name == "first" && parse_int(value, 1, 1'000'000'000, number))
    {
        spec.selector = fault_selector::first;
        spec.count = static_cast<std::uint64_t>(number);
    }
    else if (name == "p" && parse_probability(value, spec.probability))
        spec.selector = fault_selector::probability;
    else
        return "invalid selector '" + std::string(text) +
               "': expected all, every=K, first=N (K, N from 1) or p=P (P from 0 to 1)";
    return {};
}

// Parses "ACTION[=VALUE]" into the spec. Returns an error message or an empty string.
std::string parse_action(std::string_view text, fault_spec& spec)
{
    const auto eq = text.find('=');
    const auto name = text.substr(0, eq);
    const bool has_value = eq != std::string_view::npos;
    const auto value = has_value ? text.substr(eq + 1) : std::string_view{};
    const auto* found = static_cast<const action_name*>(nullptr);
    for (const auto& candidate : action_names)
    {
        if (candidate.name == name)
            found = &candidate;
    }
    if (found == nullptr)
        return "unknown action '" + std::string(name) +
               "': expected status, delay, stall, trickle, reset, close_no_notify, truncate, "
               "malformed_json, next_loop, next_foreign, big_page, connection_close, idle_close, "
               "latency, invalid_session or entry_400";
    spec.action = found->action;
    const auto bad_value = [&](std::string_view expected) {
        return "invalid value '" + std::string(value) + "' for action " + std::string(name) + ": expected " +
               std::string(expected);
    };

    std::int64_t number = 0;
    switch (spec.action)
    {
    case fault_action::status:
        if (value != "429" && value != "500" && value != "502" && value != "503")
            return bad_value("429, 500, 502 or 503");
        parse_int(value, 0, 999, number);
        spec.status = static_cast<unsigned>(number);
        if (spec.status == 429)
        {
            spec.retry_after = retry_after_form::seconds;
            spec.retry_after_seconds = 1;
        }
        return {};
    case fault_action::delay:
    case fault_action::trickle:
    case fault_action::idle_close:
        if (!parse_int(value, spec.action == fault_action::trickle ? 1 : 0, max_milliseconds, number))
            return bad_value("milliseconds from 1 to 3600000");
        spec.min_ms = spec.max_ms = number;
        return {};
    case fault_action::latency:
    {
        const auto dash = value.find('-');
        std::int64_t high = 0;
        if (!parse_int(value.substr(0, dash), 0, max_milliseconds, number))
            return bad_value("MS or MIN-MAX milliseconds up to 3600000");
        high = number;
        if (dash != std::string_view::npos &&
            (!parse_int(value.substr(dash + 1), number, max_milliseconds, high)))
            return bad_value("MS or MIN-MAX milliseconds up to 3600000, MIN <= MAX");
        spec.min_ms = number;
        spec.max_ms = high;
        return {};
    }
    case fault_action::next_foreign:
        if (has_value && value != "https" && value != "http")
            return bad_value("https (default) or http");
        spec.foreign_plain_http = value == "http";
        return {};
    default:
        if (has_value)
            return "action " + std::string(name) + " takes no value";
        return {};
    }
}

}  // namespace

std::variant<fault_spec, std::string> parse_fault_spec(std::string_view text)
{
    fault_spec spec;
    spec.text = std::string(text);
    const auto fields = split(text, ':');
    const auto prefix = "invalid fault spec '" + std::string(text.substr(0, 200)) + "': ";
    if (fields.size() < 4)
        return prefix + "expected HOST:ROUTE:SELECTOR:ACTION[=VALUE][:retry_after=S|:retry_after_date=S]";

    // Host and route.
    bool host_found = false;
    for (const auto host : all_hosts)
    {
        if (fields[0] == to_string(host))
        {
            spec.host = host;
            host_found = true;
        }
    }
    if (!host_found)
        return prefix + "invalid host '" + std::string(fields[0]) +
               "': expected payer, salesforce, healthcloud or datacloud";
    if (!fields[1].starts_with('/') || fields[1].starts_with("/_sandbox/"))
        return prefix + "invalid route '" + std::string(fields[1]) +
               "': expected a path prefix starting with / outside /_sandbox/";
    spec.route = std::string(fields[1]);

    // Selector and action.
    if (auto error = parse_selector(fields[2], spec); !error.empty())
        return prefix + error;
    if (auto error = parse_action(fields[3], spec); !error.empty())
        return prefix + error;

    // Modifiers of a status fault.
    for (std::size_t i = 4; i < fields.size(); ++i)
    {
        const auto eq = fields[i].find('=');
        const auto name = fields[i].substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view{} : fields[i].substr(eq + 1);
        if (spec.action != fault_action::status || (name != "retry_after" && name != "retry_after_date"))
            return prefix + "unknown modifier '" + std::string(fields[i]) +
                   "': only status faults take retry_after=SECONDS or retry_after_date=SECONDS";
        if (!parse_int(value, 0, max_retry_after_seconds, spec.retry_after_seconds))
            return prefix + "invalid value '" + std::string(value) + "' for " + std::string(name) +
                   ": expected seconds from 0 to 604800";
        spec.retry_after = name == "retry_after" ? retry_after_form::seconds : retry_after_form::http_date;
    }

    // Actions that only make sense on one service.
    if (spec.action == fault_action::invalid_session && spec.host == host_kind::payer)
        return prefix + "invalid_session applies to salesforce or healthcloud, not payer";
    if (spec.action == fault_action::entry_400 && spec.host != host_kind::healthcloud)
        return prefix + "entry_400 applies to healthcloud only";
    const bool eob_page_action = spec.action == fault_action::next_loop ||
                                 spec.action == fault_action::next_foreign ||
                                 spec.action == fault_action::big_page;
    if (eob_page_action && spec.host != host_kind::payer)
        return prefix + std::string(fields[3]) + " applies to payer EOB searches only";
    return spec;
}

std::string_view fault_spec_syntax()
{
    return "  A fault spec is HOST:ROUTE:SELECTOR:ACTION[=VALUE][:MODIFIER=VALUE]:\n"
           "    HOST      payer, salesforce, healthcloud or datacloud\n"
           "    ROUTE     path prefix the request path must start with, e.g. /v2/fhir/ExplanationOfBenefit\n"
           "    SELECTOR  all | every=K (the K-th, 2K-th, ... match) | first=N | p=P (probability,\n"
           "              drawn from --seed)\n"
           "    ACTION    status=429|500|502|503 (the service's error body; 429 adds Retry-After: 1,\n"
           "              change it with :retry_after=SECONDS or :retry_after_date=SECONDS for an\n"
           "              HTTP-date that many seconds ahead), delay=MS, stall, trickle=MS (one byte\n"
           "              every MS), reset (part of the body, then TCP RST), close_no_notify (whole\n"
           "              response, then close without TLS close_notify), truncate (headers and half\n"
           "              the body, then close without close_notify), malformed_json, next_loop,\n"
           "              next_foreign[=https|http], big_page (over 9 MB), connection_close,\n"
           "              idle_close=MS (close the connection when the next request does not come\n"
           "              within MS), latency=MS or latency=MIN-MAX, invalid_session, entry_400\n"
           "  Example: payer:/v2/fhir/ExplanationOfBenefit:every=3:status=503\n";
}

}  // namespace bbsync::sandbox

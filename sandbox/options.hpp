#ifndef BBSYNC_SANDBOX_OPTIONS_HPP
#define BBSYNC_SANDBOX_OPTIONS_HPP

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sandbox/fault_spec.hpp"

namespace bbsync::sandbox {

// The payer API the payer host emulates: Blue Button 2.0 itself, or a CARIN Blue Button (C4BB)
// health plan API with opaque paging and literal Practitioner and Organization references.
enum class payer_mode
{
    bluebutton,
    carin,
};

// Returns "bluebutton" or "carin", the value of --mode and of "mode" in sandbox.json.
constexpr std::string_view to_string(payer_mode mode)
{
    return mode == payer_mode::carin ? "carin" : "bluebutton";
}

// Command line settings of bbsync-sandbox.
struct options
{
    std::filesystem::path state_dir;
    int patients = 10;
    int eobs_per_patient = 20;
    std::uint64_t seed = 1;
    int access_token_lifetime_seconds = 3600;
    std::vector<fault_spec> faults;
    // 0: Salesforce sessions never expire.
    int sf_session_lifetime_seconds = 0;
    std::uint64_t sf_daily_api_limit = 100000;
    // Writes the payer's expires_in as a decimal number (lifetime - 0.5) instead of an integer.
    bool fractional_expires_in = false;
    // The payer app is a one-time app, which may not refresh tokens.
    bool payer_one_time_app = false;
    // Lifetime of Data Cloud tenant tokens from the a360 token exchange.
    int dc_token_lifetime_seconds = 7200;
    payer_mode mode = payer_mode::bluebutton;
};

// Outcome of parsing a command line that asked for the help text.
struct help_requested
{};

// Outcome of parsing an invalid command line: a one-line message naming the option.
struct invalid_options
{
    std::string message;
};

using parse_outcome = std::variant<options, help_requested, invalid_options>;

// Parses argv. Returns help_requested for --help, invalid_options with a message naming the
// option and its allowed range for bad or missing values. Throws nothing but std::bad_alloc.
parse_outcome parse_options(int argc, const char* const* argv);

// Returns the --help text, one line per option with its unit and default.
std::string help_text();

}  // namespace bbsync::sandbox

#endif

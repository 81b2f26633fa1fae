#ifndef BBSYNC_SANDBOX_FAULT_SPEC_HPP
#define BBSYNC_SANDBOX_FAULT_SPEC_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "sandbox/host_kind.hpp"

namespace bbsync::sandbox {

// Which of the requests matching a fault's host and route it applies to.
enum class fault_selector
{
    all,
    every,
    first,
    probability,
};

// What a fault does to a request it applies to.
enum class fault_action
{
    status,
    delay,
    stall,
    trickle,
    reset,
    close_no_notify,
    truncate,
    malformed_json,
    next_loop,
    next_foreign,
    big_page,
    connection_close,
    idle_close,
    latency,
    invalid_session,
    entry_400,
};

// Form of the Retry-After header of a status fault.
enum class retry_after_form
{
    none,
    seconds,
    http_date,
};

// One parsed `--fault` spec: HOST:ROUTE:SELECTOR:ACTION[=VALUE][:MODIFIER=VALUE...].
struct fault_spec
{
    std::string text;
    host_kind host = host_kind::payer;
    // Path prefix, compared with the request path without its query.
    std::string route;
    fault_selector selector = fault_selector::all;
    // k of every=k or n of first=n.
    std::uint64_t count = 0;
    double probability = 1.0;
    fault_action action = fault_action::status;
    unsigned status = 0;
    retry_after_form retry_after = retry_after_form::none;
    std::int64_t retry_after_seconds = 0;
    // Milliseconds of delay, trickle, idle_close and latency; latency draws uniformly from
    // [min_ms, max_ms].
    std::int64_t min_ms = 0;
    std::int64_t max_ms = 0;
    // next_foreign: true for http://127.0.0.1:PORT, false for https://other.example:PORT.
    bool foreign_plain_http = false;
};

// Parses a fault spec. Returns the spec, or a one-line message naming the bad field and
// the accepted forms. Throws only std::bad_alloc.
std::variant<fault_spec, std::string> parse_fault_spec(std::string_view text);

// Returns the --help and docs description of the spec syntax, one line per form.
std::string_view fault_spec_syntax();

}  // namespace bbsync::sandbox

#endif

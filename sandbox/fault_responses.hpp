#ifndef BBSYNC_SANDBOX_FAULT_RESPONSES_HPP
#define BBSYNC_SANDBOX_FAULT_RESPONSES_HPP

#include <cstdint>

#include "sandbox/fault_injector.hpp"
#include "sandbox/host_kind.hpp"
#include "sandbox/route_response.hpp"

namespace bbsync::sandbox {

// Builds the error response of a status fault in the shape the emulated service uses, with
// the Retry-After form of the spec. Throws only std::bad_alloc.
http_response make_fault_status_response(host_kind host, const fault_spec& spec, std::int64_t now_ms);

// Builds Salesforce's 401 INVALID_SESSION_ID response. Throws only std::bad_alloc.
http_response make_invalid_session_response();

// Applies the body faults of the plan to a finished response: malformed_json, and on a 200
// EOB search Bundle next_loop, next_foreign and big_page. Returns true when the body
// changed. Throws only std::bad_alloc.
bool apply_body_faults(http_response& response, const fault_plan& plan, std::uint16_t payer_port);

// Formats seconds since the epoch as an HTTP-date (IMF-fixdate). Throws only std::bad_alloc.
std::string format_http_date(std::int64_t epoch_seconds);

}  // namespace bbsync::sandbox

#endif

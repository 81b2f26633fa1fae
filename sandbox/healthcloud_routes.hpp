#ifndef BBSYNC_SANDBOX_HEALTHCLOUD_ROUTES_HPP
#define BBSYNC_SANDBOX_HEALTHCLOUD_ROUTES_HPP

#include <cstdint>

#include "sandbox/route_response.hpp"
#include "sandbox/sandbox_state.hpp"

namespace bbsync::sandbox {

// Handles a request to the healthcloud port: POST of a FHIR batch Bundle to the Healthcare
// API bundle endpoint. Each entry is validated, resolved and stored or rejected on its own
// and reported in a batch-response Bundle in request order. With `reject_first_entry` the
// first entry gets 400 and the entries depending on it through urn:uuid get 424. Throws only
// std::bad_alloc.
route_response handle_healthcloud_request(
    sandbox_state& state, const http_request& request, std::int64_t now_ms, bool reject_first_entry = false
);

}  // namespace bbsync::sandbox

#endif

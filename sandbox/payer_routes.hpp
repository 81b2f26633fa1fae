#ifndef BBSYNC_SANDBOX_PAYER_ROUTES_HPP
#define BBSYNC_SANDBOX_PAYER_ROUTES_HPP

#include <cstdint>

#include "sandbox/route_response.hpp"
#include "sandbox/sandbox_state.hpp"

namespace bbsync::sandbox {

// Handles a request to the payer port: the Blue Button v2 token endpoint, the Patient,
// Coverage and ExplanationOfBenefit endpoints, and the /_sandbox/eobs and /_sandbox/consent
// admin endpoints. Client mistakes get the status and body Blue Button sends. Throws only
// std::bad_alloc.
route_response handle_payer_request(sandbox_state& state, const http_request& request, std::int64_t now_ms);

}  // namespace bbsync::sandbox

#endif

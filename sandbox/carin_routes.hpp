#ifndef BBSYNC_SANDBOX_CARIN_ROUTES_HPP
#define BBSYNC_SANDBOX_CARIN_ROUTES_HPP

#include <cstdint>
#include <string_view>

#include "sandbox/request_parsing.hpp"
#include "sandbox/route_response.hpp"
#include "sandbox/sandbox_state.hpp"

namespace bbsync::sandbox {

// Handles GET /v2/fhir/ExplanationOfBenefit in CARIN mode for the token's patient. A first
// request takes `patient`, `_count` (1 to 50, default 10), `_lastUpdated` and `type` (HL7
// claim-type codes) and returns the first page. Further pages come only from the
// `next` link, `?_getpages=<search id>&_getpagesoffset=N&_count=M`, which walks the results
// as they were at the first request. Bundles have `self` and `next` links and no `total`.
// `startIndex` gets 400, and an unknown search id gets 410. Throws only std::bad_alloc.
route_response handle_carin_eob_search(
    sandbox_state& state, const request_target& target, std::size_t patient, std::int64_t now_ms
);

// Handles GET /v2/fhir/Coverage in CARIN mode: `patient` is required and `beneficiary` gets
// 400. Returns the patient's Coverage resources in one page. Throws only std::bad_alloc.
route_response handle_carin_coverage_search(
    sandbox_state& state, const request_target& target, std::size_t patient, std::int64_t now_ms
);

// Handles GET /v2/fhir/Practitioner/{id} and /v2/fhir/Organization/{id} in CARIN mode.
// `resource_type` is "Practitioner" or "Organization". Unknown ids get 404 with an
// OperationOutcome. Throws only std::bad_alloc.
route_response handle_carin_reference_read(
    const sandbox_state& state, std::string_view resource_type, std::string_view id
);

// Handles GET /v2/fhir/ExplanationOfBenefit/{id} in CARIN mode for the token's patient.
// Throws only std::bad_alloc.
route_response handle_carin_eob_read(const sandbox_state& state, std::string_view id, std::size_t patient);

}  // namespace bbsync::sandbox

#endif

#ifndef BBSYNC_SANDBOX_DATACLOUD_ROUTES_HPP
#define BBSYNC_SANDBOX_DATACLOUD_ROUTES_HPP

#include <cstdint>

#include "sandbox/route_response.hpp"
#include "sandbox/sandbox_state.hpp"

namespace bbsync::sandbox {

// Maximum streaming ingestion body: 200 KB (204,800 bytes), the limit Salesforce documents for
// the Data Cloud Ingestion API.
inline constexpr std::size_t max_datacloud_body_bytes = 200 * 1024;

// Handles a request to the datacloud port: streaming ingestion with
// POST /api/v1/ingest/sources/BlueButtonClaim/{object} and a tenant token. Checks the token
// (401), the source and object (404), the body size (413), the body shape (415, 400) and each
// record against the schema (400 with the reason), then stores the records and returns 202.
// Throws only std::bad_alloc.
route_response handle_datacloud_request(
    sandbox_state& state, const http_request& request, std::int64_t now_ms
);

// Handles POST /services/a360/token on the salesforce port: exchanges a live Salesforce
// access token for a Data Cloud tenant token. Returns 400 with an OAuth error body for a bad
// form, grant type, subject token type or subject token. Throws only std::bad_alloc.
route_response handle_a360_token(sandbox_state& state, const http_request& request, std::int64_t now_ms);

}  // namespace bbsync::sandbox

#endif

#ifndef BBSYNC_SANDBOX_SALESFORCE_ROUTES_HPP
#define BBSYNC_SANDBOX_SALESFORCE_ROUTES_HPP

#include <cstdint>

#include "sandbox/route_response.hpp"
#include "sandbox/sandbox_state.hpp"

namespace bbsync::sandbox {

// Handles a request to the salesforce port: the client-credentials token endpoint and the
// PatientSyncJob__c upsert by JobId__c. Every /services/data response carries
// Sforce-Limit-Info. Throws only std::bad_alloc.
route_response handle_salesforce_request(
    sandbox_state& state, const http_request& request, std::int64_t now_ms
);

}  // namespace bbsync::sandbox

#endif

#ifndef BBSYNC_DAEMON_PAYER_PAYER_CLIENT_HPP
#define BBSYNC_DAEMON_PAYER_PAYER_CLIENT_HPP

#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "coro/https_client.hpp"
#include "daemon/common/failure.hpp"
#include "daemon/service/config.hpp"

namespace bbsync {

struct payer_tokens
{
    std::string access_token;
    std::string refresh_token;
    std::chrono::milliseconds expires_in{0};
};

// Failure classes of a token refresh. The job decides from them what happens to the
// stored refresh token.
namespace payer_errors {
// The payer rejected the refresh token (invalid_grant, invalid_request, or an app not
// allowed to refresh): the patient must consent again.
inline constexpr const char* renewal_required = "consent.renewal_required";
// The payer rejected bbsync's client credentials: an operator must fix the configuration.
inline constexpr const char* client_rejected = "payer.client_rejected";
// The access token was not accepted by a FHIR call (expired or revoked).
inline constexpr const char* unauthorized = "payer.unauthorized";
}  // namespace payer_errors

// Builds the target of an EOB search: patient, _count, optional startIndex, _lastUpdated=gt
// and type filter, every value percent-encoded.
std::string eob_search_target(
    const config& settings,
    const std::string& payer_patient_id,
    const std::optional<std::string>& watermark,
    std::optional<int> start_index
);

// Checks that a Bundle `next` link stays on the configured payer: https, same host, same
// port. Returns the origin-form target to request, or a failure of class
// "payer.foreign_next_link" that names the offending scheme or host (never its query).
outcome<std::string> next_link_target(const config& settings, const std::string& url);

// Client of the payer's OAuth and FHIR endpoints (Blue Button 2.0 or CARIN).
class payer_client
{
public:
    payer_client(coro::https_client& http, const config& settings);

    // Exchanges a refresh token for new tokens. Sent on a fresh connection and never
    // replayed, because the payer rotates the refresh token on the first attempt. Failure
    // classes: payer_errors::renewal_required, payer_errors::client_rejected,
    // "payer.token_http_<status>" and "payer.token_transport" (outcome unknown: the old
    // token may already be spent), "payer.token_bad_response".
    coro::awaitable<outcome<payer_tokens>> refresh(const std::string& refresh_token);

    // GETs a FHIR target with the access token and parses the JSON body. Failure classes:
    // payer_errors::unauthorized for 401, "payer.http_<status>" (retryable for 429 and
    // 5xx), "payer.timeout", "payer.transport", "payer.bad_json".
    coro::awaitable<outcome<boost::json::value>> get(
        const std::string& target, const std::string& access_token
    );

private:
    coro::https_client& http_;
    const config& settings_;
    coro::https_origin origin_;
};

}  // namespace bbsync

#endif

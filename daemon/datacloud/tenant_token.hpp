#ifndef BBSYNC_DAEMON_DATACLOUD_TENANT_TOKEN_HPP
#define BBSYNC_DAEMON_DATACLOUD_TENANT_TOKEN_HPP

#include <chrono>
#include <string>
#include <string_view>

#include "coro/http_message.hpp"
#include "daemon/common/failure.hpp"

namespace bbsync {

// A Data Cloud access token from the a360 token exchange, with the tenant it is valid for.
struct tenant_token
{
    std::string access_token;
    // The tenant endpoint that serves the Ingestion API, from instance_url.
    coro::https_origin tenant;
    // After this moment the token is renewed before use rather than sent.
    std::chrono::steady_clock::time_point renew_at;
};

// Lifetime assumed for a tenant token whose response carries no usable expires_in. A token that
// expires earlier is renewed on its first HTTP 401.
inline constexpr std::chrono::seconds default_tenant_token_lifetime{600};

// Returns how long before its expiry a token of `lifetime` is renewed: 60 s, or half the
// lifetime for tokens that live 2 minutes or less. Never throws.
std::chrono::milliseconds tenant_token_renewal_margin(std::chrono::milliseconds lifetime) noexcept;

// Parses the instance_url of an a360 token response. A value without a scheme, such as
// "abc.c360a.salesforce.com", means https. Returns a failure of class "datacloud.exchange_bad_response"
// for an empty value, a scheme other than https, a missing host or an invalid port. Throws only
// std::bad_alloc.
outcome<coro::https_origin> parse_tenant_origin(std::string_view instance_url);

// Parses the body of an a360 token exchange response: access_token and instance_url are required,
// expires_in (a number or a numeric string of seconds) is optional. `received_at` is when the
// response arrived. Returns a failure of class "datacloud.exchange_bad_response" naming the missing
// or invalid member, never its value. Throws only std::bad_alloc.
outcome<tenant_token> parse_tenant_token(
    std::string_view body, std::chrono::steady_clock::time_point received_at
);

}  // namespace bbsync

#endif

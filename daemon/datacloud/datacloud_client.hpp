#ifndef BBSYNC_DAEMON_DATACLOUD_DATACLOUD_CLIENT_HPP
#define BBSYNC_DAEMON_DATACLOUD_DATACLOUD_CLIENT_HPP

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "coro/async_semaphore.hpp"
#include "coro/https_client.hpp"
#include "daemon/common/failure.hpp"
#include "daemon/datacloud/tenant_token.hpp"
#include "daemon/service/config.hpp"

namespace bbsync {

// Failure classes of the Data Cloud client that the claim-data step treats specially.
namespace datacloud_errors {
// claimData.cdpConfig.* is incomplete, so no token can be requested.
inline constexpr const char* not_configured = "datacloud.not_configured";
// The tenant rejected a token that was just issued (HTTP 401 twice in a row).
inline constexpr const char* unauthorized = "datacloud.unauthorized";
}  // namespace datacloud_errors

// Client of the Data Cloud streaming Ingestion API. It gets a core Salesforce token with the
// OAuth password grant at claimData.cdpConfig.url, exchanges it at /services/a360/token for a
// tenant token, and keeps the tenant token until shortly before it expires. One renewal runs at a
// time; callers that wait for it share its result. Single-threaded: use it from the thread that
// runs its executor.
class datacloud_client
{
public:
    datacloud_client(coro::https_client& http, const config& settings, boost::asio::any_io_executor executor);

    // Posts one body {"data":[...]} to /api/v1/ingest/sources/<claimData.sourceAPI>/<object_name>
    // on the tenant. Any 2xx status (Data Cloud returns 202) is a success. An HTTP 401 renews the tenant
    // token once and replays the request. Does not retry otherwise: the caller decides. Failure
    // classes: datacloud_errors::not_configured; "datacloud.token_rejected",
    // "datacloud.token_http_<status>", "datacloud.token_timeout", "datacloud.token_transport",
    // "datacloud.token_bad_response" for the core token; "datacloud.exchange_rejected",
    // "datacloud.exchange_http_<status>", "datacloud.exchange_timeout",
    // "datacloud.exchange_transport", "datacloud.exchange_bad_response" for the exchange;
    // datacloud_errors::unauthorized; "datacloud.http_<status>" (retryable for 429 and 5xx, with
    // Retry-After when sent), "datacloud.timeout", "datacloud.transport" for the request. Throws
    // only on cancellation and bugs.
    coro::awaitable<outcome<void>> ingest(const std::string& object_name, const std::string& body);

    // Returns whether all five claimData.cdpConfig keys are set. Never throws.
    bool login_configured() const noexcept;

    // Number of core tokens and of token exchanges obtained so far.
    std::int64_t core_tokens_issued() const noexcept { return core_tokens_issued_; }
    std::int64_t exchanges_done() const noexcept { return exchanges_done_; }

private:
    // Returns the cached tenant token while it is fresh and is not `rejected`. Otherwise it renews
    // the token by exchanging the cached core token, and requests a new core token only when that
    // exchange is rejected.
    coro::awaitable<outcome<tenant_token>> current_token(const std::optional<std::string>& rejected);
    coro::awaitable<outcome<std::string>> request_core_token();
    coro::awaitable<outcome<tenant_token>> exchange(const std::string& core_token);

    coro::https_client& http_;
    const config& settings_;
    coro::async_semaphore token_lock_;
    std::optional<std::string> core_token_;
    std::optional<tenant_token> tenant_token_;
    std::int64_t core_tokens_issued_ = 0;
    std::int64_t exchanges_done_ = 0;
};

}  // namespace bbsync

#endif

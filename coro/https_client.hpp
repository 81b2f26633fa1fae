#ifndef BBSYNC_CORO_HTTPS_CLIENT_HPP
#define BBSYNC_CORO_HTTPS_CLIENT_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "coro/async_semaphore.hpp"
#include "coro/http_message.hpp"
#include "coro/tokens.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bbsync::coro {

// Time allowed for each phase of a request. Every phase is also bounded by the
// request's whole deadline (request_options::timeout).
struct https_timeouts
{
    std::chrono::steady_clock::duration resolve = std::chrono::seconds(10);
    std::chrono::steady_clock::duration connect = std::chrono::seconds(10);
    std::chrono::steady_clock::duration handshake = std::chrono::seconds(10);
    std::chrono::steady_clock::duration write = std::chrono::seconds(30);
    std::chrono::steady_clock::duration read = std::chrono::seconds(60);
};

// The result of one https_client::send call, for metrics.
struct request_outcome
{
    const https_origin& origin;
    const http_request& request;
    // The HTTP status, or 0 when no complete response arrived (then `error` is set).
    unsigned status = 0;
    boost::system::error_code error;
    // From the call to send() until the response or the error, the wait for a connection
    // slot included.
    std::chrono::steady_clock::duration elapsed{};
    // True when the request went out a second time on a new connection because a pooled one
    // proved stale.
    bool replayed = false;
};

// Called once when each send() call completes, but not when it is cancelled or throws. It must
// not throw and must not call back into the client.
using request_observer = std::function<void(const request_outcome&)>;

struct https_client_options
{
    https_timeouts timeouts;

    // Requests in flight to one origin at a time; further requests wait in FIFO order.
    std::size_t max_connections_per_origin = 16;

    // A pooled connection idle for longer than this is closed instead of reused.
    std::chrono::steady_clock::duration max_idle = std::chrono::seconds(30);

    std::string user_agent = "bbsync";

    // Receives every completed request; empty for none.
    request_observer observer;
};

// Creates a TLS client context that requires TLS 1.2 or newer and verifies the peer's
// certificate chain against ca_file, or against the system's trust store when ca_file is
// empty. Throws boost::system::system_error naming the file if it cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_tls_client_context(const std::string& ca_file);

// An HTTPS/1.1 client with a keep-alive connection pool per origin. Every connection
// verifies the server certificate and its host name and sends SNI for host names (not for
// IP literals, which SNI does not allow). Single-threaded: use it from the thread that
// runs its executor.
class https_client
{
public:
    https_client(
        boost::asio::any_io_executor executor,
        std::shared_ptr<boost::asio::ssl::context> tls,
        https_client_options options = {}
    );
    ~https_client();
    https_client(const https_client&) = delete;
    https_client& operator=(const https_client&) = delete;

    // Sends one request and reads the whole response. Transport failures come back as an
    // error_code: beast::error::timeout when a phase or the whole deadline ran out,
    // http::error::body_limit / header_limit when the response is too large, ssl errors
    // when verification fails, asio errors for resolve and connect failures. A response
    // of any HTTP status is a success here. A request marked idempotent is replayed once on
    // a new connection when a pooled connection proves stale before any response byte
    // arrives. Throws only on cancellation of the awaiting coroutine and on bugs.
    awaitable<boost::system::result<http_response>> send(
        const https_origin& origin, const http_request& request, const request_options& options = {}
    );

    // Replaces the observer given in the options; an empty function removes it.
    void set_observer(request_observer observer) { options_.observer = std::move(observer); }

    // Closes every idle pooled connection.
    void close_idle() noexcept;

    const https_client_options& options() const noexcept { return options_; }

private:
    struct connection;
    struct origin_pool;

    origin_pool& pool_for(const https_origin& origin);

    awaitable<boost::system::result<std::unique_ptr<connection>>> connect(
        const https_origin& origin, std::chrono::steady_clock::time_point deadline
    );

    awaitable<boost::system::error_code> exchange(
        connection& conn,
        const https_origin& origin,
        const http_request& request,
        const request_options& options,
        std::chrono::steady_clock::time_point deadline,
        http_response& response,
        bool& received_any
    );

    boost::asio::any_io_executor executor_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    https_client_options options_;
    std::map<std::string, std::unique_ptr<origin_pool>> pools_;
};

}  // namespace bbsync::coro

#endif

#ifndef BBSYNC_TESTS_SUPPORT_TLS_TEST_SERVER_HPP
#define BBSYNC_TESTS_SUPPORT_TLS_TEST_SERVER_HPP

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coro/http_message.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bbsync::test {

struct tls_server_state;

// One request as the test server received it.
struct recorded_request
{
    std::size_t connection = 0;  // 1 for the first accepted connection, 2 for the next...
    std::string method;
    std::string target;
    coro::header_list headers;
    std::string body;

    // Value of the first header with this name (case-insensitive), if any.
    std::optional<std::string> header(const std::string& name) const;
};

// What the test server does with one request.
struct scripted_response
{
    unsigned status = 200;
    coro::header_list headers;  // besides Content-Length and Connection, which are set
    std::string body = "ok";

    // Time to wait before answering.
    std::chrono::steady_clock::duration delay{};

    // Send `Connection: close` and close the connection after the response.
    bool close_after = false;

    // Read the request and never send a response. The connection stays open until the client
    // closes it or the server stops.
    bool never_answer = false;
};

// An HTTPS/1.1 server on 127.0.0.1 with an ephemeral port, for tests. It runs on the
// executor it is given, records every connection and request, and answers each request
// as the responder returns. Single-threaded, like the client it serves.
//
// An io_context with a listening server always has work, so a test must call stop() before
// it expects the context to run out of work.
class tls_test_server
{
public:
    using responder = std::function<scripted_response(const recorded_request&)>;

    // Binds 127.0.0.1:0 and starts accepting. Throws boost::system::system_error when the
    // socket cannot be bound. Exceptions from the server's own coroutines propagate out of
    // io_context::run, because they are bugs in the test.
    tls_test_server(boost::asio::any_io_executor executor, std::shared_ptr<boost::asio::ssl::context> tls);
    tls_test_server(const tls_test_server&) = delete;
    tls_test_server& operator=(const tls_test_server&) = delete;

    // Stops the server.
    ~tls_test_server();

    // Replaces the responder. The default responds to every request with 200 and body "ok".
    void respond_with(responder handler);

    // When on, the server closes every connection right after each response, without
    // `Connection: close` and without a TLS close_notify, as a server whose keep-alive idle
    // timeout has run out.
    void close_idle_connections(bool enabled);

    // Stops accepting, closes every connection and cancels pending delays. Idempotent.
    void stop() noexcept;

    std::uint16_t port() const noexcept;

    // Origin for a client: `host` must name this machine's 127.0.0.1.
    coro::https_origin origin(const std::string& host = "127.0.0.1") const;

    // TCP connections accepted so far.
    std::size_t accepted() const noexcept;

    // Connections whose TLS handshake failed.
    std::size_t handshake_failures() const noexcept;

    // Highest number of requests that were received and not yet answered at the same time.
    std::size_t max_concurrent_requests() const noexcept;

    // Requests received so far, in arrival order.
    const std::vector<recorded_request>& requests() const noexcept;

    // Server name sent by the client (SNI) for each completed handshake, in order, or nullopt
    // when the client sent none.
    const std::vector<std::optional<std::string>>& server_names() const noexcept;

private:
    std::shared_ptr<tls_server_state> state_;
};

}  // namespace bbsync::test

#endif

#ifndef BBSYNC_DAEMON_API_HTTP_LISTENER_HPP
#define BBSYNC_DAEMON_API_HTTP_LISTENER_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "coro/tokens.hpp"

namespace bbsync::api {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// Builds the response to one request. Must not throw; a thrown exception is logged and the
// connection is closed without a response.
using request_handler = std::function<http_response(const http_request&)>;

// Limits of one listener.
struct listener_limits
{
    // A request body beyond this size gets 413.
    std::uint64_t body_limit = 64 * 1024;
    std::chrono::seconds handshake_timeout{10};
    std::chrono::seconds read_timeout{10};
    std::chrono::seconds write_timeout{10};
};

struct listener_state;

// An HTTP/1.1 listener, optionally over TLS, that passes each request to `handler`, sends its
// response and closes the connection. Sessions run as coroutines on the listener's executor.
class http_listener
{
public:
    // Binds host:port (port 0 picks a free port) and listens. `tls` null serves plain HTTP.
    // `name` appears in log lines. Throws boost::system::system_error when the address cannot
    // be bound.
    http_listener(
        boost::asio::any_io_executor executor,
        const std::string& name,
        const std::string& host,
        std::uint16_t port,
        std::shared_ptr<boost::asio::ssl::context> tls,
        request_handler handler,
        listener_limits limits = {}
    );

    // Returns the bound port.
    std::uint16_t port() const noexcept { return port_; }

    // Starts accepting connections. Accept errors other than close() are logged and the
    // listener keeps accepting.
    void start();

    // Stops accepting. Open sessions end after their current request.
    void close() noexcept;

private:
    coro::tcp_acceptor acceptor_;
    std::shared_ptr<listener_state> state_;
    std::uint16_t port_ = 0;
};

// Loads a TLS server context from a PEM certificate chain and a PEM private key. Throws
// boost::system::system_error when either file cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_tls_server_context(
    const std::string& cert_file, const std::string& key_file
);

}  // namespace bbsync::api

#endif

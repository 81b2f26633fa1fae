#ifndef BBSYNC_SANDBOX_HTTP_SERVER_HPP
#define BBSYNC_SANDBOX_HTTP_SERVER_HPP

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>

#include "coro/tokens.hpp"
#include "sandbox/fault_injector.hpp"
#include "sandbox/host_kind.hpp"
#include "sandbox/route_response.hpp"
#include "sandbox/sandbox_state.hpp"

namespace bbsync::sandbox {

// Handles one request on a host: the shared /_sandbox/state, /_sandbox/jobs and
// /_sandbox/faults endpoints, else the host's routes with the response faults of `plan`
// (status, invalid_session, entry_400 and the body faults). Counts the request and any
// rejection in `state.seen`. Throws only std::bad_alloc.
http_response dispatch_request(
    sandbox_state& state, host_kind host, const http_request& request, const fault_plan& plan = {}
);

// An HTTPS/1.1 listener on an ephemeral port of 127.0.0.1 for one emulated host, with
// keep-alive. Sessions run as coroutines on the io_context of the listener.
class http_server
{
public:
    // Binds and listens. Throws boost::system::system_error when the port cannot be bound.
    http_server(
        boost::asio::io_context& io, boost::asio::ssl::context& tls, sandbox_state& state, host_kind host
    );

    // Returns the bound port.
    std::uint16_t port() const { return port_; }

    // Starts accepting. An accept loop that fails for another reason than close() rethrows
    // from io_context::run.
    void start();

    // Stops accepting; sessions already open end when the io_context stops.
    void close();

private:
    boost::asio::io_context& io_;
    boost::asio::ssl::context& tls_;
    sandbox_state& state_;
    host_kind host_;
    coro::tcp_acceptor acceptor_;
    std::uint16_t port_ = 0;
};

}  // namespace bbsync::sandbox

#endif

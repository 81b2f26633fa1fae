#include "sandbox/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <exception>
#include <iostream>

#include "sandbox/fhir_time.hpp"
#include "sandbox/healthcloud_routes.hpp"
#include "sandbox/payer_routes.hpp"
#include "sandbox/salesforce_routes.hpp"

namespace bbsync::sandbox {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using namespace std::chrono_literals;

using tls_stream = ssl::stream<beast::tcp_stream>;

constexpr auto handshake_timeout = 10s;
constexpr auto idle_timeout = 60s;
constexpr auto write_timeout = 30s;
constexpr auto shutdown_timeout = 5s;
constexpr std::uint64_t body_limit = 16 * 1024 * 1024;

// Simulated service time per host, so that overlapping client requests show up in
// max_concurrency. The real Healthcare API takes seconds, which would slow tests down.
std::chrono::milliseconds service_time(host_kind host)
{
    switch (host)
    {
    case host_kind::payer: return 2ms;
    case host_kind::salesforce: return 1ms;
    case host_kind::healthcloud: return 5ms;
    }
    return 0ms;
}

// Completion of the accept loop: a failure there is fatal for the process.
struct accept_loop_completion
{
    void operator()(const std::exception_ptr& error) const
    {
        if (error)
            std::rethrow_exception(error);
    }
};

// Completion of one session: log the failure class and keep serving other clients.
struct session_completion
{
    host_kind host;

    void operator()(const std::exception_ptr& error) const
    {
        if (!error)
            return;
        try
        {
            std::rethrow_exception(error);
        }
        catch (const std::exception& e)
        {
            std::cerr << "bbsync-sandbox: " << to_string(host) << " session failed: " << e.what() << "\n";
        }
    }
};

coro::awaitable<void> run_session(tls_stream stream, sandbox_state& state, host_kind host)
{
    // TLS handshake.
    beast::get_lowest_layer(stream).expires_after(handshake_timeout);
    auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::server, coro::use_nothrow);
    if (handshake_error)
        co_return;

    // Serve requests until the client closes the connection or sends "Connection: close".
    beast::flat_buffer buffer;
    for (;;)
    {
        http::request_parser<http::string_body> parser;
        parser.body_limit(body_limit);
        beast::get_lowest_layer(stream).expires_after(idle_timeout);
        auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, coro::use_nothrow);
        if (read_error)
            break;
        const auto& request = parser.get();

        // Handle, after the simulated service time, while counting overlap.
        state.seen.request_started(host);
        const bool is_admin = request.target().starts_with("/_sandbox/");
        if (!is_admin && service_time(host) > 0ms)
        {
            coro::steady_timer delay(co_await asio::this_coro::executor, service_time(host));
            co_await delay.async_wait();
        }
        auto response = dispatch_request(state, host, request);
        response.version(request.version());
        response.keep_alive(request.keep_alive());

        beast::get_lowest_layer(stream).expires_after(write_timeout);
        auto [write_error, written] = co_await http::async_write(stream, response, coro::use_nothrow);
        state.seen.request_finished(host);
        if (write_error || !response.keep_alive())
            break;
    }

    // Close politely; a peer that already left is not an error here.
    beast::get_lowest_layer(stream).expires_after(shutdown_timeout);
    co_await stream.async_shutdown(coro::use_nothrow);
}

coro::awaitable<void> accept_loop(
    coro::tcp_acceptor& acceptor, ssl::context& tls, sandbox_state& state, host_kind host
)
{
    const auto executor = co_await asio::this_coro::executor;
    for (;;)
    {
        auto [error, socket] = co_await acceptor.async_accept();
        if (error == asio::error::operation_aborted || !acceptor.is_open())
            co_return;
        if (error)
        {
            std::cerr << "bbsync-sandbox: " << to_string(host) << " accept failed: " << error.message()
                      << "\n";
            continue;
        }
        tls_stream stream(beast::tcp_stream(std::move(socket)), tls);
        asio::co_spawn(executor, run_session(std::move(stream), state, host), session_completion{host});
    }
}

}  // namespace

http_response dispatch_request(sandbox_state& state, host_kind host, const http_request& request)
{
    const std::int64_t now_ms = now_epoch_ms();
    route_response handled;
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/_sandbox/state" || path == "/_sandbox/jobs")
    {
        // Observation endpoints, the same on every port.
        handled.route = std::string(path);
        if (request.method() != http::verb::get)
        {
            handled.response =
                make_json_response(405, boost::json::object{{"detail", "only GET is supported"}});
            handled.rejection = "method not allowed";
        }
        else
        {
            handled.response =
                make_json_response(200, path == "/_sandbox/state" ? state.state_json() : state.jobs_json());
        }
    }
    else
    {
        switch (host)
        {
        case host_kind::payer: handled = handle_payer_request(state, request, now_ms); break;
        case host_kind::salesforce: handled = handle_salesforce_request(state, request, now_ms); break;
        case host_kind::healthcloud: handled = handle_healthcloud_request(state, request, now_ms); break;
        }
    }

    state.seen.count_request(
        host, std::string(request.method_string()), handled.route, handled.response.result_int()
    );
    if (!handled.rejection.empty())
        state.seen.count_rejection(host, handled.route, handled.rejection);
    return std::move(handled.response);
}

http_server::http_server(asio::io_context& io, ssl::context& tls, sandbox_state& state, host_kind host)
    : io_(io), tls_(tls), state_(state), host_(host), acceptor_(io)
{
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

void http_server::start()
{
    asio::co_spawn(io_, accept_loop(acceptor_, tls_, state_, host_), accept_loop_completion{});
}

void http_server::close()
{
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

}  // namespace bbsync::sandbox

#include "daemon/api/http_listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "daemon/service/log.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

namespace bbsync::api {

// State shared by every session of one listener.
struct listener_state
{
    std::string name;
    std::shared_ptr<ssl::context> tls;
    request_handler handler;
    listener_limits limits;
};

namespace {

using plain_stream = beast::tcp_stream;
using tls_stream = ssl::stream<beast::tcp_stream>;

http_response plain_error(unsigned status, const std::string& text)
{
    http_response response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = text + "\n";
    return response;
}

template <class Stream>
coro::awaitable<void> serve_request(
    Stream& stream, const listener_limits& limits, const request_handler& handler
)
{
    // Read one request; a body over the limit gets 413, other parse errors 400.
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(limits.body_limit);
    beast::get_lowest_layer(stream).expires_after(limits.read_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, coro::use_nothrow);
    http_response response;
    if (read_error == http::error::body_limit)
    {
        response = plain_error(
            413, "request body too large: the limit is " + std::to_string(limits.body_limit) + " bytes"
        );
    }
    else if (read_error == http::error::end_of_stream || read_error == asio::error::eof)
    {
        co_return;
    }
    else if (read_error)
    {
        if (read_error == beast::error::timeout)
        {
            co_return;
        }
        response = plain_error(400, "malformed HTTP request");
    }
    else
    {
        try
        {
            response = handler(parser.get());
        }
        catch (const std::exception& e)
        {
            log::error("http", std::string("request handler failed: ") + e.what());
            response = plain_error(500, "internal error; see the service log");
        }
    }

    // Send the response and close: one request per connection keeps shutdown simple.
    response.version(11);
    response.keep_alive(false);
    response.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(limits.write_timeout);
    co_await http::async_write(stream, response, coro::use_nothrow);
}

coro::awaitable<void> run_plain_session(plain_stream stream, std::shared_ptr<const listener_state> state)
{
    co_await serve_request(stream, state->limits, state->handler);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

coro::awaitable<void> run_tls_session(tls_stream stream, std::shared_ptr<const listener_state> state)
{
    beast::get_lowest_layer(stream).expires_after(state->limits.handshake_timeout);
    auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::server, coro::use_nothrow);
    if (handshake_error)
    {
        co_return;
    }
    co_await serve_request(stream, state->limits, state->handler);

    // Close politely; a client that already left is not an error here.
    beast::get_lowest_layer(stream).expires_after(state->limits.write_timeout);
    co_await stream.async_shutdown(coro::use_nothrow);
}

// Logs a session that ended with an exception; the listener keeps running.
struct session_done
{
    std::string name;

    void operator()(std::exception_ptr error) const
    {
        if (!error)
        {
            return;
        }
        try
        {
            std::rethrow_exception(error);
        }
        catch (const std::exception& e)
        {
            log::error(name, std::string("session failed: ") + e.what());
        }
    }
};

coro::awaitable<void> accept_loop(coro::tcp_acceptor& acceptor, std::shared_ptr<const listener_state> state)
{
    for (;;)
    {
        auto [accept_error, socket] = co_await acceptor.async_accept();
        if (accept_error == asio::error::operation_aborted || !acceptor.is_open())
        {
            co_return;
        }
        if (accept_error)
        {
            log::warning(state->name, "accept failed: " + accept_error.message());
            continue;
        }
        if (state->tls)
        {
            tls_stream stream(beast::tcp_stream(std::move(socket)), *state->tls);
            asio::co_spawn(
                acceptor.get_executor(), run_tls_session(std::move(stream), state), session_done{state->name}
            );
        }
        else
        {
            asio::co_spawn(
                acceptor.get_executor(),
                run_plain_session(beast::tcp_stream(std::move(socket)), state),
                session_done{state->name}
            );
        }
    }
}

}  // namespace

http_listener::http_listener(
    asio::any_io_executor executor,
    const std::string& name,
    const std::string& host,
    std::uint16_t port,
    std::shared_ptr<ssl::context> tls,
    request_handler handler,
    listener_limits limits
)
    : acceptor_(executor),
      state_(std::make_shared<listener_state>(listener_state{name, std::move(tls), std::move(handler), limits}
      ))
{
    const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
    const asio::ip::tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
}

void http_listener::start()
{
    auto executor = acceptor_.get_executor();
    // Only close() ends the loop, and accept_loop catches nothing it could throw but
    // std::bad_alloc, which then ends the process through io_context::run.
    asio::co_spawn(executor, accept_loop(acceptor_, state_), [](std::exception_ptr error) {
        if (error)
        {
            std::rethrow_exception(error);
        }
    });
}

void http_listener::close() noexcept
{
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

std::shared_ptr<ssl::context> make_tls_server_context(
    const std::string& cert_file, const std::string& key_file
)
{
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(
        ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1
    );
    context->use_certificate_chain_file(cert_file);
    context->use_private_key_file(key_file, ssl::context::pem);
    return context;
}

}  // namespace bbsync::api

#include "tls_test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <exception>

#include "coro/tokens.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

namespace bbsync::test {

namespace {

struct session
{
    session(asio::ip::tcp::socket socket, ssl::context& tls)
        : stream(beast::tcp_stream(std::move(socket)), tls), delay(stream.get_executor())
    {}

    ssl::stream<beast::tcp_stream> stream;
    coro::steady_timer delay;

    void close() noexcept
    {
        beast::error_code ignored;
        auto& socket = stream.next_layer().socket();
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        delay.cancel();
    }
};

}  // namespace

struct tls_server_state
{
    tls_server_state(asio::any_io_executor executor, std::shared_ptr<ssl::context> context)
        : tls(std::move(context)), acceptor(std::move(executor))
    {}

    std::shared_ptr<ssl::context> tls;
    coro::tcp_acceptor acceptor;
    tls_test_server::responder handler = [](const recorded_request&) { return scripted_response{}; };
    std::uint16_t port = 0;
    bool close_idle = false;
    bool stopped = false;

    std::vector<std::weak_ptr<session>> sessions;
    std::size_t accepted = 0;
    std::size_t handshake_failures = 0;
    std::size_t in_flight = 0;
    std::size_t max_in_flight = 0;
    std::vector<recorded_request> requests;
    std::vector<std::optional<std::string>> server_names;
};

namespace {

void rethrow_failure(std::exception_ptr error)
{
    if (error)
    {
        std::rethrow_exception(error);
    }
}

recorded_request record(std::size_t connection, const http::request<http::string_body>& request)
{
    recorded_request entry;
    entry.connection = connection;
    entry.method = std::string(request.method_string());
    entry.target = std::string(request.target());
    for (const auto& field : request)
    {
        entry.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    entry.body = request.body();
    return entry;
}

http::response<http::string_body> build_response(const scripted_response& reply)
{
    http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
    for (const auto& [name, value] : reply.headers)
    {
        response.insert(name, value);
    }
    response.body() = reply.body;
    response.keep_alive(!reply.close_after);
    response.prepare_payload();
    return response;
}

coro::awaitable<void> serve_connection(
    std::shared_ptr<tls_server_state> state, std::shared_ptr<session> connection, std::size_t id
);

coro::awaitable<void> accept_connections(std::shared_ptr<tls_server_state> state)
{
    for (;;)
    {
        auto [ec, socket] = co_await state->acceptor.async_accept();
        if (ec || state->stopped)
        {
            co_return;
        }
        ++state->accepted;
        auto connection = std::make_shared<session>(std::move(socket), *state->tls);
        state->sessions.push_back(connection);
        auto start = [state, connection, id = state->accepted] {
            return serve_connection(state, connection, id);
        };
        asio::co_spawn(state->acceptor.get_executor(), start, rethrow_failure);
    }
}

coro::awaitable<void> serve_connection(
    std::shared_ptr<tls_server_state> state, std::shared_ptr<session> connection, std::size_t id
)
{
    // Handshake, then note the server name the client sent.
    auto [handshake_ec] =
        co_await connection->stream.async_handshake(ssl::stream_base::server, coro::use_nothrow);
    if (handshake_ec)
    {
        ++state->handshake_failures;
        co_return;
    }
    const char* name = SSL_get_servername(connection->stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    state->server_names.push_back(name != nullptr ? std::optional<std::string>(name) : std::nullopt);

    beast::flat_buffer buffer;
    for (;;)
    {
        // Read one request. The client closing the connection ends the session.
        http::request<http::string_body> request;
        auto [read_ec, read] =
            co_await http::async_read(connection->stream, buffer, request, coro::use_nothrow);
        if (read_ec || state->stopped)
        {
            co_return;
        }
        state->requests.push_back(record(id, request));
        const scripted_response reply = state->handler(state->requests.back());
        if (reply.never_answer)
        {
            continue;
        }
        ++state->in_flight;
        state->max_in_flight = std::max(state->max_in_flight, state->in_flight);

        // Delay the response as scripted. stop() cancels the wait.
        if (reply.delay > std::chrono::steady_clock::duration::zero())
        {
            connection->delay.expires_after(reply.delay);
            co_await connection->delay.async_wait();
            if (state->stopped)
            {
                --state->in_flight;
                co_return;
            }
        }

        // Send the response, then close if the script or the idle policy requires it.
        auto response = build_response(reply);
        auto [write_ec, written] =
            co_await http::async_write(connection->stream, response, coro::use_nothrow);
        --state->in_flight;
        if (write_ec)
        {
            co_return;
        }
        if (reply.close_after || state->close_idle)
        {
            connection->close();
            co_return;
        }
    }
}

}  // namespace

std::optional<std::string> recorded_request::header(const std::string& name) const
{
    for (const auto& [key, value] : headers)
    {
        if (beast::iequals(key, name))
        {
            return value;
        }
    }
    return std::nullopt;
}

tls_test_server::tls_test_server(asio::any_io_executor executor, std::shared_ptr<ssl::context> tls)
    : state_(std::make_shared<tls_server_state>(executor, std::move(tls)))
{
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(asio::socket_base::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    state_->port = state_->acceptor.local_endpoint().port();
    auto start = [shared = state_] { return accept_connections(shared); };
    asio::co_spawn(executor, start, rethrow_failure);
}

tls_test_server::~tls_test_server() { stop(); }

void tls_test_server::respond_with(responder handler) { state_->handler = std::move(handler); }

void tls_test_server::close_idle_connections(bool enabled) { state_->close_idle = enabled; }

void tls_test_server::stop() noexcept
{
    state_->stopped = true;
    beast::error_code ignored;
    state_->acceptor.close(ignored);
    for (auto& weak : state_->sessions)
    {
        if (auto connection = weak.lock())
        {
            connection->close();
        }
    }
    state_->sessions.clear();
}

std::uint16_t tls_test_server::port() const noexcept { return state_->port; }

coro::https_origin tls_test_server::origin(const std::string& host) const { return {host, port()}; }

std::size_t tls_test_server::accepted() const noexcept { return state_->accepted; }

std::size_t tls_test_server::handshake_failures() const noexcept { return state_->handshake_failures; }

std::size_t tls_test_server::max_concurrent_requests() const noexcept { return state_->max_in_flight; }

const std::vector<recorded_request>& tls_test_server::requests() const noexcept { return state_->requests; }

const std::vector<std::optional<std::string>>& tls_test_server::server_names() const noexcept
{
    return state_->server_names;
}

}  // namespace bbsync::test

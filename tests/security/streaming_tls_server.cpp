#include "streaming_tls_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <exception>

#include "coro/tokens.hpp"

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using bbsync::coro::awaitable;
using bbsync::coro::use_nothrow;

namespace bbsync::test {

struct streaming_server_state
{
    streaming_server_state(
        asio::any_io_executor executor,
        std::shared_ptr<ssl::context> server_tls,
        std::string response_head,
        std::size_t body
    )
        : acceptor(executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          tls(std::move(server_tls)), head(std::move(response_head)), body_bytes(body)
    {}

    tcp::acceptor acceptor;
    std::shared_ptr<ssl::context> tls;
    std::string head;
    std::size_t body_bytes = 0;
    std::size_t requests = 0;
    std::size_t sent = 0;
};

namespace {

constexpr std::size_t chunk_size = 64 * 1024;

// Exceptions of the server's coroutines are bugs in the test, so they leave io_context::run.
void rethrow(std::exception_ptr error)
{
    if (error)
    {
        std::rethrow_exception(error);
    }
}

awaitable<void> serve_connection(std::shared_ptr<streaming_server_state> state, tcp::socket socket)
{
    ssl::stream<tcp::socket> stream(std::move(socket), *state->tls);
    auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
    if (handshake_ec)
    {
        co_return;
    }

    // One request per connection: read its head, then stream the response.
    asio::streambuf request;
    auto [read_ec, read] = co_await asio::async_read_until(stream, request, "\r\n\r\n", use_nothrow);
    if (read_ec)
    {
        co_return;
    }
    ++state->requests;
    auto [head_ec, head_written] = co_await asio::async_write(stream, asio::buffer(state->head), use_nothrow);
    if (head_ec)
    {
        co_return;
    }
    const std::string filler(chunk_size, ' ');
    std::size_t remaining = state->body_bytes;
    while (remaining > 0)
    {
        const auto size = std::min(remaining, chunk_size);
        auto [write_ec, written] =
            co_await asio::async_write(stream, asio::buffer(filler.data(), size), use_nothrow);
        if (write_ec)
        {
            co_return;
        }
        state->sent += written;
        remaining -= written;
    }
    co_await stream.async_shutdown(use_nothrow);
}

awaitable<void> accept_loop(std::shared_ptr<streaming_server_state> state)
{
    for (;;)
    {
        auto [ec, socket] = co_await state->acceptor.async_accept(use_nothrow);
        if (ec)
        {
            co_return;
        }
        auto session = [state, socket = std::move(socket)]() mutable {
            return serve_connection(state, std::move(socket));
        };
        asio::co_spawn(state->acceptor.get_executor(), std::move(session), rethrow);
    }
}

}  // namespace

streaming_tls_server::streaming_tls_server(
    asio::any_io_executor executor,
    std::shared_ptr<ssl::context> tls,
    std::string head,
    std::size_t body_bytes
)
    : state_(std::make_shared<streaming_server_state>(executor, std::move(tls), std::move(head), body_bytes))
{
    auto loop = [state = state_]() { return accept_loop(state); };
    asio::co_spawn(executor, std::move(loop), rethrow);
}

streaming_tls_server::~streaming_tls_server()
{
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
}

std::uint16_t streaming_tls_server::port() const noexcept { return state_->acceptor.local_endpoint().port(); }

std::size_t streaming_tls_server::requests() const noexcept { return state_->requests; }

std::size_t streaming_tls_server::body_bytes_sent() const noexcept { return state_->sent; }

}  // namespace bbsync::test

#ifndef BBSYNC_CORO_TOKENS_HPP
#define BBSYNC_CORO_TOKENS_HPP

// Completion tokens and I/O object aliases used across the project. Every asynchronous
// call either passes one of these tokens or goes through an alias below, so that error
// codes come back as values and are checked on the next line.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#ifndef BOOST_ASIO_HAS_CO_AWAIT
#error "bbsync needs C++20 coroutine support in Boost.Asio (g++ 12 with -std=c++20)"
#endif

namespace bbsync::coro {

// `co_await op(..., use_nothrow)` returns std::tuple<error_code, ...> instead of throwing.
inline constexpr auto use_nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

using nothrow_token = boost::asio::as_tuple_t<boost::asio::use_awaitable_t<>>;

template <class T>
using awaitable = boost::asio::awaitable<T>;

using tcp_stream = nothrow_token::as_default_on_t<boost::beast::tcp_stream>;
using tcp_acceptor = nothrow_token::as_default_on_t<boost::asio::ip::tcp::acceptor>;
using tcp_resolver = nothrow_token::as_default_on_t<boost::asio::ip::tcp::resolver>;
using steady_timer = nothrow_token::as_default_on_t<boost::asio::steady_timer>;

}  // namespace bbsync::coro

#endif

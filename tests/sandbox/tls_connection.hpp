#ifndef BBSYNC_TESTS_SANDBOX_TLS_CONNECTION_HPP
#define BBSYNC_TESTS_SANDBOX_TLS_CONNECTION_HPP

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "sandbox_process.hpp"

namespace bbsync::tests {

// What a raw read until the end of the connection saw.
struct raw_outcome
{
    // Decrypted bytes, in order.
    std::string received;
    // The error that ended reading (ssl::error::stream_truncated for a close without
    // close_notify, asio::error::eof after close_notify); empty when the time ran out.
    boost::system::error_code end;
    bool timed_out = false;
    std::size_t reads = 0;
    std::chrono::milliseconds elapsed{0};
};

// One keep-alive TLS connection to a sandbox host, for tests that look at the transport:
// partial messages, resets, missing close_notify, timing.
class tls_connection
{
public:
    // Connects and completes the TLS handshake. Throws boost::system::system_error.
    tls_connection(const sandbox_process& sandbox, const std::string& host);

    // Writes one request. Throws boost::system::system_error.
    void send(
        const std::string& method,
        const std::string& target,
        const std::string& body = {},
        const std::vector<std::pair<std::string, std::string>>& headers = {}
    );

    // Reads one response within `timeout`. Throws boost::system::system_error on a transport
    // failure or a timeout (errc::timed_out).
    http_result read_response(std::chrono::milliseconds timeout);

    // Reads raw bytes until the connection ends or `timeout` passes. Throws nothing but
    // std::bad_alloc.
    raw_outcome read_until_end(std::chrono::milliseconds timeout);

private:
    boost::asio::io_context io_;
    boost::asio::ssl::context context_;
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
    boost::beast::flat_buffer buffer_;
};

}  // namespace bbsync::tests

#endif

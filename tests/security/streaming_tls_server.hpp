#ifndef BBSYNC_TESTS_SECURITY_STREAMING_TLS_SERVER_HPP
#define BBSYNC_TESTS_SECURITY_STREAMING_TLS_SERVER_HPP

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace bbsync::test {

struct streaming_server_state;

// An HTTPS server on 127.0.0.1 with an ephemeral port that responds to every request with the
// raw bytes `head` (status line, headers and the blank line) followed by `body_bytes` filler
// bytes, written in 64 KiB chunks from one reused buffer. The server's own memory therefore
// stays small however large the body is, so that a test can measure the client's memory.
// It stops writing when the client closes the connection.
class streaming_tls_server
{
public:
    // Binds 127.0.0.1:0 and starts accepting. Throws boost::system::system_error when the
    // socket cannot be bound.
    streaming_tls_server(
        boost::asio::any_io_executor executor,
        std::shared_ptr<boost::asio::ssl::context> tls,
        std::string head,
        std::size_t body_bytes
    );
    streaming_tls_server(const streaming_tls_server&) = delete;
    streaming_tls_server& operator=(const streaming_tls_server&) = delete;

    // Closes the listening socket.
    ~streaming_tls_server();

    std::uint16_t port() const noexcept;

    // Request heads received so far.
    std::size_t requests() const noexcept;

    // Body bytes written so far, over all connections.
    std::size_t body_bytes_sent() const noexcept;

private:
    std::shared_ptr<streaming_server_state> state_;
};

}  // namespace bbsync::test

#endif

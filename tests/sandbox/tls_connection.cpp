#include "tls_connection.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <functional>

namespace bbsync::tests {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;

}  // namespace

tls_connection::tls_connection(const sandbox_process& sandbox, const std::string& host)
    : context_(ssl::context::tls_client), stream_(io_, context_)
{
    context_.load_verify_file(std::string(sandbox.ready().at("ca_file").as_string()));
    context_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    stream_.next_layer().connect({asio::ip::make_address("127.0.0.1"), sandbox.port(host)});
    stream_.handshake(ssl::stream_base::client);
}

void tls_connection::send(
    const std::string& method,
    const std::string& target,
    const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers
)
{
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers)
        request.set(name, value);
    request.body() = body;
    if (!body.empty() || method == "POST" || method == "PATCH")
        request.prepare_payload();
    http::write(stream_, request);
}

http_result tls_connection::read_response(std::chrono::milliseconds timeout)
{
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    boost::system::error_code error = asio::error::would_block;
    http::async_read(stream_, buffer_, parser, [&](boost::system::error_code ec, std::size_t) {
        error = ec;
    });
    io_.restart();
    io_.run_for(timeout);
    if (error == asio::error::would_block)
    {
        stream_.next_layer().cancel();
        io_.restart();
        io_.run();
        throw boost::system::system_error(make_error_code(boost::system::errc::timed_out));
    }
    if (error)
        throw boost::system::system_error(error);
    http_result result;
    result.status = parser.get().result_int();
    result.body = parser.get().body();
    for (const auto& field : parser.get())
        result.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    return result;
}

raw_outcome tls_connection::read_until_end(std::chrono::milliseconds timeout)
{
    raw_outcome outcome;
    const auto start = std::chrono::steady_clock::now();

    // Bytes already buffered by an earlier read_response come first.
    const auto buffered = buffer_.data();
    outcome.received.append(static_cast<const char*>(buffered.data()), buffered.size());
    buffer_.consume(buffer_.size());

    std::array<char, 65536> chunk{};
    bool finished = false;
    std::function<void()> read_next;
    read_next = [&] {
        stream_.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
            outcome.received.append(chunk.data(), n);
            if (n > 0)
                ++outcome.reads;
            if (ec)
            {
                outcome.end = ec;
                finished = true;
                return;
            }
            read_next();
        });
    };
    read_next();
    io_.restart();
    io_.run_for(timeout);
    if (!finished)
    {
        outcome.timed_out = true;
        boost::system::error_code ignored;
        stream_.next_layer().cancel(ignored);
        io_.restart();
        io_.run();
        outcome.end = {};
    }
    outcome.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return outcome;
}

}  // namespace bbsync::tests

#include "coro/https_client.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <string>

#include "coro/content_decoding.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace bbsync::coro {
namespace {

// Certificate verification failures keep OpenSSL's X509_V_ERR_* code so that logs name
// the reason a server was rejected (expired, host name mismatch, untrusted issuer...).
class tls_verify_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "tls_verify"; }
    std::string message(int value) const override
    {
        return std::string("certificate verification failed: ") + X509_verify_cert_error_string(value);
    }
};

const boost::system::error_category& tls_verify_category()
{
    static const tls_verify_category_impl category;
    return category;
}

bool is_ip_literal(const std::string& host)
{
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// Errors that a pooled connection shows when the server closed it while it sat idle.
bool is_stale_connection_error(const error_code& ec)
{
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == ssl::error::stream_truncated;
}

void arm(beast::tcp_stream& stream, clock_type::duration phase, clock_type::time_point deadline)
{
    stream.expires_at(std::min(clock_type::now() + phase, deadline));
}

}  // namespace

std::string https_origin::authority() const
{
    std::string text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != 443)
    {
        text += ':' + std::to_string(port);
    }
    return text;
}

std::optional<std::string_view> http_response::header(std::string_view name) const
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

std::shared_ptr<ssl::context> make_tls_client_context(const std::string& ca_file)
{
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    if (ca_file.empty())
    {
        context->set_default_verify_paths();
    }
    else
    {
        error_code ec;
        context->load_verify_file(ca_file, ec);
        if (ec)
        {
            throw boost::system::system_error(ec, "cannot load CA file " + ca_file);
        }
    }
    return context;
}

struct https_client::connection
{
    connection(asio::any_io_executor executor, ssl::context& tls) : stream(std::move(executor), tls) {}

    ssl::stream<beast::tcp_stream> stream;

    // Outlives single responses: it may already hold the start of the next one.
    beast::flat_buffer buffer;
    clock_type::time_point idle_since;
};

struct https_client::origin_pool
{
    origin_pool(asio::any_io_executor executor, std::size_t limit) : in_flight(std::move(executor), limit) {}

    async_semaphore in_flight;
    std::vector<std::unique_ptr<connection>> idle;
};

https_client::https_client(
    asio::any_io_executor executor, std::shared_ptr<ssl::context> tls, https_client_options options
)
    : executor_(std::move(executor)), tls_(std::move(tls)), options_(std::move(options))
{}

https_client::~https_client() = default;

void https_client::close_idle() noexcept
{
    for (auto& [key, pool] : pools_)
    {
        pool->idle.clear();
    }
}

https_client::origin_pool& https_client::pool_for(const https_origin& origin)
{
    auto key = origin.host + '\n' + std::to_string(origin.port);
    auto& pool = pools_[key];
    if (!pool)
    {
        pool = std::make_unique<origin_pool>(executor_, options_.max_connections_per_origin);
    }
    return *pool;
}

awaitable<boost::system::result<http_response>> https_client::send(
    const https_origin& origin, const http_request& request, const request_options& options
)
{
    const auto started = clock_type::now();
    const auto deadline = started + options.timeout;
    auto& pool = pool_for(origin);
    auto permit = co_await pool.in_flight.acquire();

    bool replaying = false;
    const auto observe = [&](unsigned status, error_code error) {
        if (options_.observer)
        {
            const request_outcome outcome{
                origin, request, status, error, clock_type::now() - started, replaying};
            options_.observer(outcome);
        }
    };
    for (;;)
    {
        // Take the most recently used idle connection, dropping any that sat idle too long.
        // A replay after a stale pooled connection always uses a new connection.
        std::unique_ptr<connection> conn;
        while (!options.fresh_connection && !replaying && !pool.idle.empty() && !conn)
        {
            conn = std::move(pool.idle.back());
            pool.idle.pop_back();
            if (clock_type::now() - conn->idle_since > options_.max_idle)
            {
                conn.reset();
            }
        }
        const bool reused = conn != nullptr;

        if (!conn)
        {
            auto connected = co_await connect(origin, deadline);
            if (!connected)
            {
                observe(0, connected.error());
                co_return connected.error();
            }
            conn = std::move(*connected);
        }

        http_response response;
        bool received_any = false;
        auto ec = co_await exchange(*conn, origin, request, options, deadline, response, received_any);
        if (!ec)
        {
            const bool keep_alive = !beast::iequals(response.header("Connection").value_or(""), "close");
            if (keep_alive && pool.idle.size() < options_.max_connections_per_origin)
            {
                conn->idle_since = clock_type::now();
                pool.idle.push_back(std::move(conn));
            }
            observe(response.status, {});
            co_return response;
        }

        // A pooled connection the server already closed fails before any response byte
        // arrives; only then is it safe to send an idempotent request once more.
        if (reused && options.idempotent && !received_any && is_stale_connection_error(ec))
        {
            replaying = true;
            continue;
        }
        observe(0, ec);
        co_return ec;
    }
}

awaitable<boost::system::result<std::unique_ptr<https_client::connection>>> https_client::connect(
    const https_origin& origin, clock_type::time_point deadline
)
{
    using namespace asio::experimental::awaitable_operators;
    const auto& timeouts = options_.timeouts;
    auto conn = std::make_unique<connection>(executor_, *tls_);
    auto& tcp = beast::get_lowest_layer(conn->stream);

    // Resolve, unless the host is an IP literal. The resolver has no deadline of its own,
    // so it races a timer.
    std::vector<asio::ip::tcp::endpoint> endpoints;
    error_code ec;
    auto address = asio::ip::make_address(origin.host, ec);
    if (!ec)
    {
        endpoints.emplace_back(address, origin.port);
    }
    else
    {
        tcp_resolver resolver(executor_);
        steady_timer timer(executor_);
        timer.expires_at(std::min(clock_type::now() + timeouts.resolve, deadline));
        auto outcome =
            co_await (resolver.async_resolve(origin.host, std::to_string(origin.port)) || timer.async_wait());
        if (outcome.index() == 1)
        {
            co_return error_code(beast::error::timeout);
        }
        auto [resolve_ec, results] = std::get<0>(outcome);
        if (resolve_ec)
        {
            co_return resolve_ec;
        }
        for (const auto& entry : results)
        {
            endpoints.push_back(entry.endpoint());
        }
    }

    // Connect to the first endpoint that accepts the connection.
    arm(tcp, timeouts.connect, deadline);
    auto [connect_ec, endpoint] = co_await tcp.async_connect(endpoints, use_nothrow);
    if (connect_ec)
    {
        co_return connect_ec;
    }
    tcp.socket().set_option(asio::ip::tcp::no_delay(true));

    // SNI for names, then the certificate's subject must match the host name or IP.
    SSL* native = conn->stream.native_handle();
    if (!is_ip_literal(origin.host))
    {
        if (SSL_set_tlsext_host_name(native, origin.host.c_str()) != 1 ||
            SSL_set1_host(native, origin.host.c_str()) != 1)
        {
            co_return error_code(asio::error::invalid_argument);
        }
    }
    else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), origin.host.c_str()) != 1)
    {
        co_return error_code(asio::error::invalid_argument);
    }

    arm(tcp, timeouts.handshake, deadline);
    auto [handshake_ec] = co_await conn->stream.async_handshake(ssl::stream_base::client, use_nothrow);
    if (handshake_ec)
    {
        const long verify_result = SSL_get_verify_result(native);
        if (verify_result != X509_V_OK)
        {
            co_return error_code(static_cast<int>(verify_result), tls_verify_category());
        }
        co_return handshake_ec;
    }
    co_return std::move(conn);
}

awaitable<error_code> https_client::exchange(
    connection& conn,
    const https_origin& origin,
    const http_request& request,
    const request_options& options,
    clock_type::time_point deadline,
    http_response& response,
    bool& received_any
)
{
    const auto& timeouts = options_.timeouts;
    auto& tcp = beast::get_lowest_layer(conn.stream);

    // Write the request.
    const auto verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown)
    {
        co_return error_code(asio::error::invalid_argument);
    }
    http::request<http::string_body> message{verb, request.target, 11};
    message.set(http::field::host, origin.authority());
    message.set(http::field::user_agent, options_.user_agent);
    for (const auto& [name, value] : request.headers)
    {
        message.insert(name, value);
    }
    if (options.accept_gzip && message.find(http::field::accept_encoding) == message.end())
    {
        message.set(http::field::accept_encoding, "gzip");
    }
    message.body() = request.body;
    message.keep_alive(true);
    message.prepare_payload();

    arm(tcp, timeouts.write, deadline);
    auto [write_ec, written] = co_await http::async_write(conn.stream, message, use_nothrow);
    if (write_ec)
    {
        co_return write_ec;
    }

    // Read the response with a fresh parser and explicit limits.
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    arm(tcp, timeouts.read, deadline);
    auto [read_ec, read] = co_await http::async_read(conn.stream, conn.buffer, parser, use_nothrow);
    received_any = parser.got_some();
    tcp.expires_never();
    if (read_ec)
    {
        co_return read_ec;
    }

    auto& message_in = parser.get();
    const auto encoding = message_in[http::field::content_encoding];
    if (auto decode_ec = decode_content(encoding, message_in.body(), options.body_limit))
    {
        co_return decode_ec;
    }
    response.status = message_in.result_int();
    for (const auto& field : message_in)
    {
        // The body is decoded, so its encoding and length headers no longer describe it.
        if (field.name() == http::field::content_encoding || field.name() == http::field::content_length)
        {
            continue;
        }
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if (!message_in.keep_alive())
    {
        response.headers.emplace_back("Connection", "close");
    }
    response.body = std::move(message_in.body());
    co_return error_code{};
}

}  // namespace bbsync::coro

#include "sandbox/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <sstream>
#include <variant>

#include "sandbox/datacloud_routes.hpp"
#include "sandbox/fault_responses.hpp"
#include "sandbox/fhir_time.hpp"
#include "sandbox/gzip_encoding.hpp"
#include "sandbox/healthcloud_routes.hpp"
#include "sandbox/payer_routes.hpp"
#include "sandbox/request_parsing.hpp"
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
    case host_kind::datacloud: return 1ms;
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

// Builds the Healthcare API's 429 for a request over the concurrency limit and counts it.
http_response make_concurrency_throttled_response(sandbox_state& state, const http_request& request)
{
    ++state.healthcloud_throttled;
    const std::string_view target = request.target();
    const std::string route(target.substr(0, std::min<std::size_t>(target.find('?'), 200)));
    auto response = make_json_response(
        429,
        boost::json::object{
            {"resourceType", "OperationOutcome"},
            {"issue",
             boost::json::array{boost::json::object{
                 {"severity", "error"},
                 {"code", "throttled"},
                 {"diagnostics", "too many concurrent requests; keep at most 5 in progress"}}}},
        },
        "application/fhir+json"
    );
    response.set(http::field::retry_after, "1");
    state.seen.count_request(host_kind::healthcloud, std::string(request.method_string()), route, 429);
    state.seen.count_rejection(host_kind::healthcloud, route, "more than 5 concurrent requests");
    return response;
}

// Serializes a response to its wire form.
std::string serialize_response(const http_response& response)
{
    std::ostringstream wire;
    wire << response;
    return std::move(wire).str();
}

// Returns true when the path is one of the admin or observation endpoints, which faults
// never touch.
bool is_admin_path(std::string_view target) { return target.starts_with("/_sandbox/"); }

// Writes bytes over TLS with the write timeout. Returns the error, if any.
coro::awaitable<boost::system::error_code> write_bytes(tls_stream& stream, std::string_view bytes)
{
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    auto [error, written] = co_await asio::async_write(stream, asio::buffer(bytes), coro::use_nothrow);
    co_return error;
}

// Waits until the peer closes the connection or an hour passes, reading and dropping
// whatever it sends. Used by the stall fault.
coro::awaitable<void> wait_for_peer_close(tls_stream& stream)
{
    beast::get_lowest_layer(stream).expires_after(std::chrono::hours(1));
    std::array<char, 4096> scratch{};
    for (;;)
    {
        auto [error, read] = co_await stream.async_read_some(asio::buffer(scratch), coro::use_nothrow);
        if (error)
            co_return;
    }
}

// Ends a connection on the transport level without TLS close_notify: `reset` sends a TCP RST
// (SO_LINGER 0), otherwise a FIN.
void close_without_notify(tls_stream& stream, bool reset)
{
    auto& socket = beast::get_lowest_layer(stream).socket();
    boost::system::error_code ignored;
    if (reset)
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
}

// Next step of a session after a response.
enum class after_response
{
    keep_alive,
    close,
    abort,
};

// Writes a response with the transport faults of the plan. Returns how the session goes on.
coro::awaitable<after_response> write_response(
    tls_stream& stream, http_response& response, const fault_plan& plan
)
{
    const auto* trickle = plan.find(fault_action::trickle);
    const bool reset = plan.find(fault_action::reset) != nullptr;
    const bool truncate = plan.find(fault_action::truncate) != nullptr;
    const bool no_notify = plan.find(fault_action::close_no_notify) != nullptr;
    if (trickle == nullptr && !reset && !truncate && !no_notify)
    {
        beast::get_lowest_layer(stream).expires_after(write_timeout);
        auto [error, written] = co_await http::async_write(stream, response, coro::use_nothrow);
        if (error)
            co_return after_response::abort;
        co_return response.keep_alive() ? after_response::keep_alive : after_response::close;
    }

    // Headers and, for reset and truncate, half the body.
    const std::string wire = serialize_response(response);
    std::size_t length = wire.size();
    if (reset || truncate)
    {
        const auto header_end = wire.find("\r\n\r\n") + 4;
        length = header_end + (wire.size() - header_end) / 2;
    }

    // One byte per TLS record, with a pause between bytes.
    if (trickle != nullptr)
    {
        coro::steady_timer pause(co_await asio::this_coro::executor);
        for (std::size_t i = 0; i < length; ++i)
        {
            if (co_await write_bytes(stream, std::string_view(wire).substr(i, 1)))
                co_return after_response::abort;
            pause.expires_after(std::chrono::milliseconds(trickle->min_ms));
            co_await pause.async_wait();
        }
    }
    else if (co_await write_bytes(stream, std::string_view(wire).substr(0, length)))
        co_return after_response::abort;

    // Loopback delivers written bytes at once, but a RST drops what the peer has not read
    // yet, so the peer gets a moment to read the partial body first.
    if (reset || truncate || no_notify)
    {
        if (reset)
        {
            coro::steady_timer pause(co_await asio::this_coro::executor, 100ms);
            co_await pause.async_wait();
        }
        close_without_notify(stream, reset);
        co_return after_response::abort;
    }
    co_return response.keep_alive() ? after_response::keep_alive : after_response::close;
}

coro::awaitable<void> run_session(tls_stream stream, sandbox_state& state, host_kind host)
{
    // TLS handshake.
    beast::get_lowest_layer(stream).expires_after(handshake_timeout);
    auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::server, coro::use_nothrow);
    if (handshake_error)
        co_return;

    // Serve requests until the client closes the connection or sends "Connection: close".
    beast::flat_buffer buffer;
    auto next_request_timeout = std::chrono::steady_clock::duration(idle_timeout);
    for (;;)
    {
        http::request_parser<http::string_body> parser;
        parser.body_limit(body_limit);
        beast::get_lowest_layer(stream).expires_after(next_request_timeout);
        auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, coro::use_nothrow);
        if (read_error)
            break;
        const auto& request = parser.get();

        // Faults of this request; admin endpoints have none.
        const bool is_admin = is_admin_path(request.target());
        const std::string_view target = request.target();
        const auto plan =
            is_admin ? fault_plan{} : state.faults.select(host, target.substr(0, target.find('?')));
        next_request_timeout = idle_timeout;
        if (const auto* idle_close = plan.find(fault_action::idle_close))
            next_request_timeout = std::chrono::milliseconds(idle_close->min_ms);
        if (plan.find(fault_action::stall) != nullptr)
        {
            co_await wait_for_peer_close(stream);
            co_return;
        }

        // The Healthcare API throttles a client with too many calls in progress.
        auto& in_flight = state.in_flight[static_cast<std::size_t>(host)];
        const bool throttled =
            host == host_kind::healthcloud && !is_admin && in_flight >= max_healthcloud_in_flight;

        // Handle, after the simulated service time and any injected delay, while counting overlap.
        state.seen.request_started(host);
        http_response response;
        if (throttled)
            response = make_concurrency_throttled_response(state, request);
        else
        {
            ++in_flight;
            // A bundle's conditional creates are in progress from arrival until the response.
            std::vector<std::string> conditions;
            if (host == host_kind::healthcloud && !is_admin && request.method() == http::verb::post)
            {
                conditions = if_none_exist_values(request.body());
                state.seen.conditional_creates_started(conditions);
            }
            const auto wait = (is_admin ? 0ms : service_time(host)) + plan.delay;
            if (wait > 0ms)
            {
                coro::steady_timer delay(co_await asio::this_coro::executor, wait);
                co_await delay.async_wait();
            }
            response = dispatch_request(state, host, request, plan);
            state.seen.conditional_creates_finished(conditions);
            --in_flight;
            if (host == host_kind::payer && !is_admin)
                apply_gzip_encoding(request, response);
        }
        response.version(request.version());
        response.keep_alive(request.keep_alive() && plan.find(fault_action::connection_close) == nullptr);

        const auto next = co_await write_response(stream, response, plan);
        state.seen.request_finished(host);
        if (next == after_response::abort)
            co_return;
        if (next == after_response::close)
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

// Handles GET, POST and DELETE of /_sandbox/faults. POST takes {"faults": ["SPEC", ...]}
// and replaces the set, and DELETE clears it. Each returns the set as {"faults": [...]}.
route_response handle_faults_request(sandbox_state& state, const http_request& request)
{
    route_response handled;
    handled.route = "/_sandbox/faults";
    const auto reject = [&](unsigned status, const std::string& detail) {
        handled.response = make_json_response(status, boost::json::object{{"detail", detail}});
        handled.rejection = detail.substr(0, 200);
        return handled;
    };
    if (request.method() == http::verb::delete_)
        state.faults.replace({});
    else if (request.method() == http::verb::post)
    {
        boost::system::error_code ec;
        const auto body = boost::json::parse(request.body(), ec);
        const auto* list = !ec && body.is_object() ? body.get_object().if_contains("faults") : nullptr;
        if (list == nullptr || !list->is_array())
            return reject(400, "request body must be {\"faults\": [\"HOST:ROUTE:SELECTOR:ACTION\", ...]}");
        std::vector<fault_spec> specs;
        for (const auto& item : list->get_array())
        {
            if (!item.is_string())
                return reject(400, "every member of \"faults\" must be a spec string");
            auto parsed = parse_fault_spec(item.get_string());
            if (auto* message = std::get_if<std::string>(&parsed))
                return reject(400, *message);
            specs.push_back(std::get<fault_spec>(std::move(parsed)));
        }
        state.faults.replace(std::move(specs));
    }
    else if (request.method() != http::verb::get)
        return reject(405, "only GET, POST and DELETE are supported");
    handled.response = make_json_response(200, boost::json::object{{"faults", state.faults.to_json()}});
    return handled;
}

}  // namespace

http_response dispatch_request(
    sandbox_state& state, host_kind host, const http_request& request, const fault_plan& plan
)
{
    const std::int64_t now_ms = now_epoch_ms();
    route_response handled;
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    const auto* status_fault = plan.find(fault_action::status);
    const bool invalid_session = plan.find(fault_action::invalid_session) != nullptr;
    if (path == "/_sandbox/faults")
        handled = handle_faults_request(state, request);
    else if (status_fault != nullptr || invalid_session)
    {
        // Injected failures replace the route: the request is not handled.
        handled.route = std::string(path.substr(0, 200));
        if (status_fault != nullptr)
            handled.response = make_fault_status_response(host, *status_fault, now_ms);
        else
        {
            if (const auto token = bearer_token(request))
            {
                state.org.invalidate_token(*token);
                state.cdp.invalidate_token(*token);
            }
            handled.response = make_invalid_session_response();
        }
    }
    else if (path == "/_sandbox/state" || path == "/_sandbox/jobs")
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
        case host_kind::healthcloud:
            handled = handle_healthcloud_request(
                state, request, now_ms, plan.find(fault_action::entry_400) != nullptr
            );
            break;
        case host_kind::datacloud: handled = handle_datacloud_request(state, request, now_ms); break;
        }
        apply_body_faults(handled.response, plan, state.port(host_kind::payer));
    }

    state.seen.count_request(
        host, std::string(request.method_string()), handled.route, handled.response.result_int()
    );
    if (!handled.rejection.empty())
        state.seen.count_rejection(host, handled.route, handled.rejection);
    if (host == host_kind::datacloud && !path.starts_with("/_sandbox/"))
    {
        state.cdp.count_status(handled.response.result_int());
        if (!handled.rejection.empty())
            state.cdp.count_rejection(handled.rejection);
    }
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

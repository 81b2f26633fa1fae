#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/result.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "coro/https_client.hpp"
#include "coro/run.hpp"
#include "coro/task_group.hpp"
#include "test_pki.hpp"
#include "tls_test_server.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using bbsync::coro::awaitable;
using bbsync::coro::http_request;
using bbsync::coro::http_response;
using bbsync::coro::https_client;
using bbsync::coro::https_client_options;
using bbsync::coro::https_origin;
using bbsync::coro::request_options;
using bbsync::coro::run_to_completion;
using bbsync::coro::task_group;
using bbsync::test::recorded_request;
using bbsync::test::scripted_response;
using bbsync::test::server_identity;
using bbsync::test::test_pki;
using bbsync::test::tls_test_server;

namespace {

using send_result = boost::system::result<http_response>;

constexpr auto time_limit = std::chrono::seconds(5);

https_client_options short_timeouts()
{
    https_client_options options;
    options.timeouts.resolve = std::chrono::seconds(2);
    options.timeouts.connect = std::chrono::seconds(2);
    options.timeouts.handshake = std::chrono::seconds(2);
    options.timeouts.write = std::chrono::seconds(2);
    options.timeouts.read = std::chrono::seconds(2);
    return options;
}

// A loopback server presenting `identity` and a client that trusts only the test CA.
struct https_fixture
{
    explicit https_fixture(
        const server_identity& identity = test_pki::shared().valid(),
        https_client_options options = short_timeouts()
    )
        : https_fixture(bbsync::test::make_tls_server_context(identity), std::move(options))
    {}

    https_fixture(std::shared_ptr<asio::ssl::context> server_tls, https_client_options options)
        : server(context.get_executor(), std::move(server_tls)),
          client(
              context.get_executor(),
              bbsync::coro::make_tls_client_context(test_pki::shared().ca_file()),
              std::move(options)
          )
    {}

    asio::io_context context;
    tls_test_server server;
    https_client client;
};

struct request_step
{
    http_request request;
    request_options options;
};

http_request get(std::string target)
{
    http_request request;
    request.target = std::move(target);
    return request;
}

http_request post(std::string target, std::string body)
{
    http_request request;
    request.method = "POST";
    request.target = std::move(target);
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = std::move(body);
    return request;
}

// Stops the server when the scenario ends, also by an exception, so that the io_context
// runs out of work instead of running into the time limit.
class stop_on_exit
{
public:
    explicit stop_on_exit(tls_test_server& server) : server_(server) {}
    stop_on_exit(const stop_on_exit&) = delete;
    stop_on_exit& operator=(const stop_on_exit&) = delete;
    ~stop_on_exit() { server_.stop(); }

private:
    tls_test_server& server_;
};

awaitable<std::vector<send_result>> send_in_sequence(
    https_client& client, tls_test_server& server, https_origin origin, std::vector<request_step> steps
)
{
    stop_on_exit stop(server);
    std::vector<send_result> results;
    for (const auto& step : steps)
    {
        auto result = co_await client.send(origin, step.request, step.options);
        results.push_back(std::move(result));
    }
    co_return results;
}

std::vector<send_result> run_steps(
    https_fixture& fixture, const https_origin& origin, std::vector<request_step> steps
)
{
    return run_to_completion(
        fixture.context,
        send_in_sequence(fixture.client, fixture.server, origin, std::move(steps)),
        time_limit
    );
}

send_result run_one(
    https_fixture& fixture, const https_origin& origin, http_request request, request_options options = {}
)
{
    auto results = run_steps(fixture, origin, {{std::move(request), options}});
    REQUIRE(results.size() == 1);
    return results.front();
}

awaitable<void> send_into(
    https_client& client, https_origin origin, http_request request, std::vector<send_result>& results
)
{
    auto result = co_await client.send(origin, request);
    results.push_back(std::move(result));
}

awaitable<void> send_concurrently(
    https_client& client, tls_test_server& server, int count, std::vector<send_result>& results
)
{
    stop_on_exit stop(server);
    task_group group(co_await asio::this_coro::executor);
    for (int i = 0; i < count; ++i)
    {
        group.spawn(send_into(client, server.origin(), get("/item/" + std::to_string(i)), results));
    }
    co_await group.wait();
}

bool is_tls_verify_error(const boost::system::error_code& ec, long expected)
{
    return std::string(ec.category().name()) == "tls_verify" && ec.value() == expected;
}

}  // namespace

TEST_CASE("https GET round trip keeps headers", "[coro][http]")
{
    https_fixture fixture;
    fixture.server.respond_with([](const recorded_request&) {
        scripted_response reply;
        reply.status = 200;
        reply.headers = {{"Content-Type", "application/fhir+json"}, {"X-Request-Id", "abc-123"}};
        reply.body = R"({"resourceType":"Bundle"})";
        return reply;
    });
    auto request = get("/v2/fhir/Patient?_count=10");
    request.headers.emplace_back("Accept", "application/fhir+json");

    auto result = run_one(fixture, fixture.server.origin(), request);

    REQUIRE(result.has_value());
    CHECK(result->status == 200);
    CHECK(result->body == R"({"resourceType":"Bundle"})");
    CHECK(result->header("content-type") == "application/fhir+json");
    CHECK(result->header("X-Request-Id") == "abc-123");
    REQUIRE(fixture.server.requests().size() == 1);
    const auto& received = fixture.server.requests().front();
    CHECK(received.method == "GET");
    CHECK(received.target == "/v2/fhir/Patient?_count=10");
    CHECK(received.header("Accept") == "application/fhir+json");
    CHECK(received.header("Host") == "127.0.0.1:" + std::to_string(fixture.server.port()));
    CHECK(received.header("User-Agent") == "bbsync");
    CHECK(received.body.empty());
}

TEST_CASE("https POST round trip keeps body", "[coro][http]")
{
    https_fixture fixture;
    fixture.server.respond_with([](const recorded_request& request) {
        scripted_response reply;
        reply.status = 201;
        reply.headers = {{"Location", "/records/7"}};
        reply.body = "stored " + std::to_string(request.body.size()) + " bytes";
        return reply;
    });
    const std::string payload = R"({"id":"record-7","values":[1,2,3]})";

    auto result = run_one(fixture, fixture.server.origin(), post("/records", payload));

    REQUIRE(result.has_value());
    CHECK(result->status == 201);
    CHECK(result->body == "stored " + std::to_string(payload.size()) + " bytes");
    CHECK(result->header("Location") == "/records/7");
    REQUIRE(fixture.server.requests().size() == 1);
    const auto& received = fixture.server.requests().front();
    CHECK(received.method == "POST");
    CHECK(received.target == "/records");
    CHECK(received.body == payload);
    CHECK(received.header("Content-Type") == "application/json");
    CHECK(received.header("Content-Length") == std::to_string(payload.size()));
}

TEST_CASE("https sequential requests share a connection", "[coro][http]")
{
    https_fixture fixture;

    auto results =
        run_steps(fixture, fixture.server.origin(), {{get("/a"), {}}, {get("/b"), {}}, {get("/c"), {}}});

    REQUIRE(results.size() == 3);
    for (const auto& result : results)
    {
        CHECK(result.has_value());
    }
    CHECK(fixture.server.accepted() == 1);
    REQUIRE(fixture.server.requests().size() == 3);
    CHECK(fixture.server.requests()[2].connection == 1);
}

TEST_CASE("https Connection close forces new connection", "[coro][http]")
{
    https_fixture fixture;
    fixture.server.respond_with([](const recorded_request& request) {
        scripted_response reply;
        reply.close_after = request.target == "/first";
        return reply;
    });

    // The second request must not be replayed, so it fails if it meets the closed connection.
    request_options not_idempotent;
    not_idempotent.idempotent = false;

    auto results = run_steps(
        fixture, fixture.server.origin(), {{get("/first"), {}}, {post("/second", "{}"), not_idempotent}}
    );

    REQUIRE(results.size() == 2);
    REQUIRE(results[0].has_value());
    CHECK(results[0]->header("Connection") == "close");
    CHECK(results[1].has_value());
    CHECK(fixture.server.accepted() == 2);
    REQUIRE(fixture.server.requests().size() == 2);
    CHECK(fixture.server.requests()[1].connection == 2);
}

TEST_CASE("https stale connection retries GET once", "[coro][http]")
{
    https_fixture fixture;
    fixture.server.close_idle_connections(true);

    auto results =
        run_steps(fixture, fixture.server.origin(), {{get("/a"), {}}, {get("/b"), {}}, {get("/c"), {}}});

    REQUIRE(results.size() == 3);
    for (const auto& result : results)
    {
        INFO((result.has_error() ? result.error().message() : std::string("no error")));
        CHECK(result.has_value());
    }
    // Each request after the first met a closed pooled connection and used one new one.
    CHECK(fixture.server.accepted() == 3);
    CHECK(fixture.server.requests().size() == 3);
}

TEST_CASE("https stale connection fails non-idempotent POST", "[coro][http]")
{
    https_fixture fixture;
    fixture.server.close_idle_connections(true);
    request_options not_idempotent;
    not_idempotent.idempotent = false;

    auto results = run_steps(
        fixture, fixture.server.origin(), {{get("/a"), {}}, {post("/records", "{}"), not_idempotent}}
    );

    REQUIRE(results.size() == 2);
    CHECK(results[0].has_value());
    REQUIRE(results[1].has_error());
    CHECK(results[1].error() != beast::error::timeout);
    CHECK(fixture.server.accepted() == 1);
    CHECK(fixture.server.requests().size() == 1);
}

TEST_CASE("https silent server causes read timeout", "[coro][http]")
{
    auto options = short_timeouts();
    options.timeouts.read = std::chrono::milliseconds(200);
    https_fixture fixture(test_pki::shared().valid(), options);
    fixture.server.respond_with([](const recorded_request&) {
        scripted_response reply;
        reply.never_answer = true;
        return reply;
    });

    const auto started = std::chrono::steady_clock::now();
    auto result = run_one(fixture, fixture.server.origin(), get("/silent"));
    const auto elapsed = std::chrono::steady_clock::now() - started;

    REQUIRE(result.has_error());
    CHECK(result.error() == beast::error::timeout);
    CHECK(elapsed >= std::chrono::milliseconds(200));
    CHECK(fixture.server.requests().size() == 1);
}

TEST_CASE("https body over body_limit fails", "[coro][http]")
{
    https_fixture fixture;
    fixture.server.respond_with([](const recorded_request&) {
        scripted_response reply;
        reply.body = std::string(2000, 'x');
        return reply;
    });
    request_options options;
    options.body_limit = 1000;

    auto result = run_one(fixture, fixture.server.origin(), get("/large"), options);

    REQUIRE(result.has_error());
    CHECK(result.error() == http::error::body_limit);
}

TEST_CASE("https trusted certificate with right name works", "[coro][http]")
{
    const std::string host = GENERATE("127.0.0.1", "localhost");
    https_fixture fixture;

    auto result = run_one(fixture, fixture.server.origin(host), get("/"));

    INFO(host);
    REQUIRE(result.has_value());
    CHECK(result->status == 200);
    CHECK(fixture.server.handshake_failures() == 0);
}

TEST_CASE("https certificate for another name rejected", "[coro][http]")
{
    https_fixture fixture(test_pki::shared().wrong_name());

    SECTION("IP address origin")
    {
        auto result = run_one(fixture, fixture.server.origin("127.0.0.1"), get("/"));

        REQUIRE(result.has_error());
        INFO(result.error().message());
        CHECK(is_tls_verify_error(result.error(), X509_V_ERR_IP_ADDRESS_MISMATCH));
    }
    SECTION("host name origin")
    {
        auto result = run_one(fixture, fixture.server.origin("localhost"), get("/"));

        REQUIRE(result.has_error());
        INFO(result.error().message());
        CHECK(is_tls_verify_error(result.error(), X509_V_ERR_HOSTNAME_MISMATCH));
    }
    CHECK(fixture.server.requests().empty());
}

TEST_CASE("https certificate from untrusted CA rejected", "[coro][http]")
{
    https_fixture fixture(test_pki::shared().untrusted_issuer());

    auto result = run_one(fixture, fixture.server.origin(), get("/"));

    REQUIRE(result.has_error());
    INFO(result.error().message());
    CHECK(is_tls_verify_error(result.error(), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY));
    CHECK(fixture.server.requests().empty());
}

TEST_CASE("https expired certificate rejected", "[coro][http]")
{
    https_fixture fixture(test_pki::shared().expired());

    auto result = run_one(fixture, fixture.server.origin(), get("/"));

    REQUIRE(result.has_error());
    INFO(result.error().message());
    CHECK(is_tls_verify_error(result.error(), X509_V_ERR_CERT_HAS_EXPIRED));
    CHECK(fixture.server.requests().empty());
}

TEST_CASE("https self-signed certificate rejected", "[coro][http]")
{
    https_fixture fixture(test_pki::shared().self_signed());

    auto result = run_one(fixture, fixture.server.origin(), get("/"));

    REQUIRE(result.has_error());
    INFO(result.error().message());
    CHECK(is_tls_verify_error(result.error(), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT));
    CHECK(fixture.server.requests().empty());
}

TEST_CASE("https TLS 1.1 server rejected", "[coro][http]")
{
    auto server_tls = bbsync::test::make_tls_server_context(test_pki::shared().valid());
    bbsync::test::restrict_to_tls_1_1(*server_tls);
    https_fixture fixture(server_tls, short_timeouts());

    auto result = run_one(fixture, fixture.server.origin(), get("/"));

    REQUIRE(result.has_error());
    INFO(result.error().message());
    CHECK(std::string(result.error().category().name()) != "tls_verify");
    CHECK(fixture.server.handshake_failures() == 1);
    CHECK(fixture.server.requests().empty());
}

TEST_CASE("https SNI sent for host names only", "[coro][http]")
{
    https_fixture fixture;

    SECTION("host name")
    {
        auto result = run_one(fixture, fixture.server.origin("localhost"), get("/"));

        REQUIRE(result.has_value());
        REQUIRE(fixture.server.server_names().size() == 1);
        CHECK(fixture.server.server_names()[0] == "localhost");
    }
    SECTION("IP address")
    {
        auto result = run_one(fixture, fixture.server.origin("127.0.0.1"), get("/"));

        REQUIRE(result.has_value());
        REQUIRE(fixture.server.server_names().size() == 1);
        CHECK_FALSE(fixture.server.server_names()[0].has_value());
    }
}

TEST_CASE("https concurrent requests bounded per origin", "[coro][http]")
{
    auto options = short_timeouts();
    options.max_connections_per_origin = 2;
    https_fixture fixture(test_pki::shared().valid(), options);
    fixture.server.respond_with([](const recorded_request&) {
        scripted_response reply;
        reply.delay = std::chrono::milliseconds(30);
        return reply;
    });
    std::vector<send_result> results;

    run_to_completion(
        fixture.context, send_concurrently(fixture.client, fixture.server, 6, results), time_limit
    );

    REQUIRE(results.size() == 6);
    for (const auto& result : results)
    {
        CHECK(result.has_value());
    }
    CHECK(fixture.server.max_concurrent_requests() == 2);
    CHECK(fixture.server.accepted() == 2);
    CHECK(fixture.server.requests().size() == 6);
}

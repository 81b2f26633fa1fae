#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "coro/https_client.hpp"
#include "coro/run.hpp"
#include "daemon/datacloud/datacloud_client.hpp"
#include "test_pki.hpp"
#include "tls_test_server.hpp"

namespace asio = boost::asio;
using bbsync::datacloud_client;
using bbsync::coro::awaitable;
using bbsync::test::recorded_request;
using bbsync::test::scripted_response;
using bbsync::test::test_pki;
using bbsync::test::tls_test_server;

namespace {

constexpr auto time_limit = std::chrono::seconds(10);
constexpr const char* ingest_target = "/api/v1/ingest/sources/BlueButtonClaim/ClaimHeader";
constexpr const char* record_body = R"({"data":[{"id":"eob-1"}]})";

// One loopback server that plays the Salesforce login (core token and a360 exchange) and the
// Data Cloud tenant. The exchange returns instance_url without a scheme. Ingest requests whose
// 1-based number is in `ingest_401` get HTTP 401, exchanges whose number is in `exchange_401`
// get HTTP 401, and every other request succeeds.
struct datacloud_fixture
{
    datacloud_fixture()
        : server(context.get_executor(), bbsync::test::make_tls_server_context(test_pki::shared().valid())),
          http(context.get_executor(), bbsync::coro::make_tls_client_context(test_pki::shared().ca_file())),
          client(http, settings, context.get_executor())
    {
        settings.cdp_url = "https://127.0.0.1:" + std::to_string(server.port());
        settings.cdp_user = "integration@example.com";
        settings.cdp_password = "cdp-password";
        settings.cdp_client_id = "cdp-client";
        settings.cdp_client_secret = "cdp-secret";
        settings.request_timeout = std::chrono::seconds(5);
        server.respond_with([this](const recorded_request& request) { return respond(request); });
    }

    scripted_response respond(const recorded_request& request)
    {
        scripted_response response;
        response.headers = {{"Content-Type", "application/json"}};
        if (request.target == "/services/oauth2/token")
        {
            ++core_requests;
            response.body = R"({"access_token":"core-)" + std::to_string(core_requests) +
                            R"(","instance_url":")" + settings.cdp_url + R"(","token_type":"Bearer"})";
        }
        else if (request.target == "/services/a360/token")
        {
            ++exchange_requests;
            if (contains(exchange_401, exchange_requests))
            {
                response.status = 401;
                response.body = R"({"error":"invalid_token"})";
                return response;
            }
            response.body = R"({"access_token":"tenant-)" + std::to_string(exchange_requests) +
                            R"(","instance_url":"127.0.0.1:)" + std::to_string(server.port()) +
                            R"(","token_type":"Bearer","expires_in":)" + std::to_string(expires_in) + "}";
        }
        else
        {
            ++ingest_requests;
            if (contains(ingest_401, ingest_requests))
            {
                response.status = 401;
                response.body = R"([{"message":"Invalid JWT","errorCode":"INVALID_AUTH"}])";
                return response;
            }
            response.status = 202;
            response.body = R"({"accepted":true})";
        }
        return response;
    }

    static bool contains(const std::vector<int>& numbers, int number)
    {
        return std::find(numbers.begin(), numbers.end(), number) != numbers.end();
    }

    // Sends `count` ingest requests one after the other, with `pause` between them.
    std::vector<bbsync::outcome<void>> ingest_in_sequence(int count, std::chrono::milliseconds pause = {})
    {
        auto task = [](datacloud_fixture& self, int requests, std::chrono::milliseconds gap
                    ) -> awaitable<std::vector<bbsync::outcome<void>>> {
            std::vector<bbsync::outcome<void>> results;
            for (int i = 0; i < requests; ++i)
            {
                if (i > 0 && gap.count() > 0)
                {
                    bbsync::coro::steady_timer timer(co_await asio::this_coro::executor);
                    timer.expires_after(gap);
                    co_await timer.async_wait();
                }
                const std::string object_name = "ClaimHeader";
                const std::string body = record_body;
                auto result = co_await self.client.ingest(object_name, body);
                results.push_back(std::move(result));
            }
            self.server.stop();
            co_return results;
        };
        return bbsync::coro::run_to_completion(context, task(*this, count, pause), time_limit);
    }

    // The Authorization header of every ingest request, in order.
    std::vector<std::string> ingest_authorizations() const
    {
        std::vector<std::string> values;
        for (const auto& request : server.requests())
        {
            if (request.target == ingest_target)
            {
                values.push_back(request.header("Authorization").value_or(""));
            }
        }
        return values;
    }

    asio::io_context context;
    bbsync::config settings;
    tls_test_server server;
    bbsync::coro::https_client http;
    datacloud_client client;
    int expires_in = 7200;
    std::vector<int> ingest_401;
    std::vector<int> exchange_401;
    int core_requests = 0;
    int exchange_requests = 0;
    int ingest_requests = 0;
};

}  // namespace

TEST_CASE("tenant token is cached across requests", "[daemon][datacloud]")
{
    datacloud_fixture fixture;
    const auto results = fixture.ingest_in_sequence(3);

    REQUIRE(results.size() == 3);
    for (const auto& result : results)
    {
        CHECK(result.has_value());
    }
    CHECK(fixture.client.core_tokens_issued() == 1);
    CHECK(fixture.client.exchanges_done() == 1);
    CHECK(fixture.core_requests == 1);
    CHECK(fixture.exchange_requests == 1);
    CHECK(
        fixture.ingest_authorizations() ==
        std::vector<std::string>{"Bearer tenant-1", "Bearer tenant-1", "Bearer tenant-1"}
    );
}

TEST_CASE("token requests carry the configured login", "[daemon][datacloud]")
{
    datacloud_fixture fixture;
    const auto results = fixture.ingest_in_sequence(1);
    REQUIRE(results.size() == 1);
    CHECK(results.front().has_value());

    const auto& requests = fixture.server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].target == "/services/oauth2/token");
    CHECK(requests[0].header("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(
        requests[0].body == "grant_type=password&client_id=cdp-client&client_secret=cdp-secret&username="
                            "integration%40example.com&"
                            "password=cdp-password"
    );
    CHECK(requests[1].target == "/services/a360/token");
    CHECK(
        requests[1].body == "grant_type=urn%3Asalesforce%3Agrant-type%3Aexternal%3Acdp&subject_token=core-1&"
                            "subject_token_type=urn%"
                            "3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
    );
    // The tenant came from an instance_url without a scheme and was reached over https.
    CHECK(requests[2].method == "POST");
    CHECK(requests[2].target == ingest_target);
    CHECK(requests[2].header("Content-Type") == "application/json");
    CHECK(requests[2].body == record_body);
}

TEST_CASE("token is renewed shortly before expiry", "[daemon][datacloud]")
{
    datacloud_fixture fixture;
    // A 1 s token is renewed after 500 ms.
    fixture.expires_in = 1;
    const auto results = fixture.ingest_in_sequence(2, std::chrono::milliseconds(700));

    REQUIRE(results.size() == 2);
    CHECK(results[0].has_value());
    CHECK(results[1].has_value());
    CHECK(fixture.core_requests == 1);
    CHECK(fixture.exchange_requests == 2);
    CHECK(fixture.ingest_authorizations() == std::vector<std::string>{"Bearer tenant-1", "Bearer tenant-2"});
}

TEST_CASE("401 renews the token once and replays", "[daemon][datacloud]")
{
    datacloud_fixture fixture;
    fixture.ingest_401 = {1};
    const auto results = fixture.ingest_in_sequence(1);

    REQUIRE(results.size() == 1);
    CHECK(results.front().has_value());
    CHECK(fixture.core_requests == 1);
    CHECK(fixture.exchange_requests == 2);
    CHECK(fixture.ingest_authorizations() == std::vector<std::string>{"Bearer tenant-1", "Bearer tenant-2"});
}

TEST_CASE("rejected exchange gets a new core token", "[daemon][datacloud]")
{
    datacloud_fixture fixture;
    fixture.ingest_401 = {1};
    fixture.exchange_401 = {2};
    const auto results = fixture.ingest_in_sequence(1);

    REQUIRE(results.size() == 1);
    CHECK(results.front().has_value());
    CHECK(fixture.core_requests == 2);
    CHECK(fixture.exchange_requests == 3);
    CHECK(fixture.client.core_tokens_issued() == 2);
    CHECK(fixture.ingest_authorizations() == std::vector<std::string>{"Bearer tenant-1", "Bearer tenant-3"});
}

TEST_CASE("second 401 fails as unauthorized", "[daemon][datacloud]")
{
    datacloud_fixture fixture;
    fixture.ingest_401 = {1, 2};
    const auto results = fixture.ingest_in_sequence(1);

    REQUIRE(results.size() == 1);
    REQUIRE_FALSE(results.front().has_value());
    CHECK(results.front().error().error_class == bbsync::datacloud_errors::unauthorized);
    CHECK_FALSE(results.front().error().retryable);
    CHECK(fixture.ingest_requests == 2);
}

TEST_CASE("concurrent requests share one token renewal", "[daemon][datacloud]")
{
    using namespace asio::experimental::awaitable_operators;
    datacloud_fixture fixture;
    auto send = [](datacloud_client& client) -> awaitable<bool> {
        const std::string object_name = "ClaimHeader";
        const std::string body = record_body;
        auto result = co_await client.ingest(object_name, body);
        co_return result.has_value();
    };
    auto all = [&]() -> awaitable<std::tuple<bool, bool, bool>> {
        auto results = co_await (send(fixture.client) && send(fixture.client) && send(fixture.client));
        fixture.server.stop();
        co_return results;
    };
    const auto [first, second, third] = bbsync::coro::run_to_completion(fixture.context, all(), time_limit);

    CHECK(first);
    CHECK(second);
    CHECK(third);
    CHECK(fixture.core_requests == 1);
    CHECK(fixture.exchange_requests == 1);
    CHECK(fixture.ingest_requests == 3);
}

TEST_CASE("incomplete login fails as not configured", "[daemon][datacloud]")
{
    datacloud_fixture fixture;
    fixture.settings.cdp_password.clear();
    const auto results = fixture.ingest_in_sequence(1);

    REQUIRE(results.size() == 1);
    REQUIRE_FALSE(results.front().has_value());
    CHECK(results.front().error().error_class == bbsync::datacloud_errors::not_configured);
    CHECK(fixture.server.requests().empty());
}

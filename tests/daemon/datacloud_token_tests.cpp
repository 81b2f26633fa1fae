#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "daemon/datacloud/tenant_token.hpp"

using bbsync::parse_tenant_origin;
using bbsync::parse_tenant_token;
using namespace std::chrono_literals;

TEST_CASE("instance_url without scheme means https", "[daemon][datacloud]")
{
    const auto plain = parse_tenant_origin("abc123.c360a.salesforce.com");
    REQUIRE(plain.has_value());
    CHECK(plain->host == "abc123.c360a.salesforce.com");
    CHECK(plain->port == 443);

    const auto with_port = parse_tenant_origin("127.0.0.1:9447");
    REQUIRE(with_port.has_value());
    CHECK(with_port->host == "127.0.0.1");
    CHECK(with_port->port == 9447);

    const auto with_scheme = parse_tenant_origin("https://tenant.example:8443/");
    REQUIRE(with_scheme.has_value());
    CHECK(with_scheme->host == "tenant.example");
    CHECK(with_scheme->port == 8443);

    const auto v6 = parse_tenant_origin("[::1]:9447");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->port == 9447);
}

TEST_CASE("instance_url with another scheme is rejected", "[daemon][datacloud]")
{
    for (const char* url : {"http://tenant.example", "", "https://", "ftp://tenant.example"})
    {
        INFO("instance_url " << url);
        const auto origin = parse_tenant_origin(url);
        REQUIRE_FALSE(origin.has_value());
        CHECK(origin.error().error_class == "datacloud.exchange_bad_response");
    }
}

TEST_CASE("tenant token is renewed a minute before expiry", "[daemon][datacloud]")
{
    const auto now = std::chrono::steady_clock::now();
    const auto token = parse_tenant_token(
        R"({"access_token":"jwt-value","instance_url":"abc.c360a.salesforce.com","token_type":"Bearer",)"
        R"("issued_token_type":"urn:ietf:params:oauth:token-type:jwt","expires_in":7191})",
        now
    );
    REQUIRE(token.has_value());
    CHECK(token->access_token == "jwt-value");
    CHECK(token->tenant.host == "abc.c360a.salesforce.com");
    CHECK(token->tenant.port == 443);
    CHECK(token->renew_at == now + 7191s - 60s);
}

TEST_CASE("expires_in as a string is read", "[daemon][datacloud]")
{
    const auto now = std::chrono::steady_clock::now();
    const auto token =
        parse_tenant_token(R"({"access_token":"a","instance_url":"t.example","expires_in":"7200"})", now);
    REQUIRE(token.has_value());
    CHECK(token->renew_at == now + 7200s - 60s);
}

TEST_CASE("short-lived token renews at half its lifetime", "[daemon][datacloud]")
{
    CHECK(bbsync::tenant_token_renewal_margin(7200s) == 60s);
    CHECK(bbsync::tenant_token_renewal_margin(120s) == 60s);
    CHECK(bbsync::tenant_token_renewal_margin(60s) == 30s);
    CHECK(bbsync::tenant_token_renewal_margin(1s) == 500ms);

    const auto now = std::chrono::steady_clock::now();
    const auto token =
        parse_tenant_token(R"({"access_token":"a","instance_url":"t.example","expires_in":1})", now);
    REQUIRE(token.has_value());
    CHECK(token->renew_at == now + 500ms);
}

TEST_CASE("missing expires_in uses the default lifetime", "[daemon][datacloud]")
{
    const auto now = std::chrono::steady_clock::now();
    for (const char* body :
         {R"({"access_token":"a","instance_url":"t.example"})",
          R"({"access_token":"a","instance_url":"t.example","expires_in":-5})",
          R"({"access_token":"a","instance_url":"t.example","expires_in":"soon"})"})
    {
        INFO("body " << body);
        const auto token = parse_tenant_token(body, now);
        REQUIRE(token.has_value());
        CHECK(token->renew_at == now + bbsync::default_tenant_token_lifetime - 60s);
    }
}

TEST_CASE("token response without required members fails", "[daemon][datacloud]")
{
    const auto now = std::chrono::steady_clock::now();
    for (const char* body :
         {"not json",
          "[]",
          R"({"instance_url":"t.example"})",
          R"({"access_token":"","instance_url":"t.example"})",
          R"({"access_token":"secret-jwt"})",
          R"({"access_token":"secret-jwt","instance_url":"http://t.example"})"})
    {
        INFO("body " << body);
        const auto token = parse_tenant_token(body, now);
        REQUIRE_FALSE(token.has_value());
        CHECK(token.error().error_class == "datacloud.exchange_bad_response");
        CHECK(token.error().message.find("secret-jwt") == std::string::npos);
    }
}

#include <boost/asio/ssl/context.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include "payer_fixture.hpp"
#include "test_pki.hpp"
#include "tls_test_server.hpp"

using bbsync::test::fixture_access_token;
using bbsync::test::payer_fixture;
using bbsync::test::server_identity;
using bbsync::test::test_pki;
using bbsync::test::tls_test_server;

namespace {

// What the payer client reported for one server, and what the server saw.
struct rejection
{
    std::string error_class;
    std::string message;
    std::size_t requests = 0;
};

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

rejection fetch_from(
    std::shared_ptr<boost::asio::ssl::context> server_tls, const std::string& host = "127.0.0.1"
)
{
    payer_fixture fixture(host);
    tls_test_server server(fixture.context.get_executor(), std::move(server_tls));
    fixture.point_at(server.port());

    auto result = fixture.get("/v2/fhir/Patient/-20140000008325");
    rejection outcome;
    if (result.has_error())
    {
        outcome.error_class = result.error().error_class;
        outcome.message = result.error().message;
    }
    outcome.requests = server.requests().size();
    return outcome;
}

rejection fetch_from(const server_identity& identity, const std::string& host = "127.0.0.1")
{
    return fetch_from(bbsync::test::make_tls_server_context(identity), host);
}

}  // namespace

TEST_CASE("payer client accepts trusted certificate", "[security][tls]")
{
    const std::string host = GENERATE("127.0.0.1", "localhost");
    payer_fixture fixture(host);
    tls_test_server server(
        fixture.context.get_executor(), bbsync::test::make_tls_server_context(test_pki::shared().valid())
    );
    server.respond_with([](const bbsync::test::recorded_request&) {
        bbsync::test::scripted_response reply;
        reply.headers = {{"Content-Type", "application/fhir+json"}};
        reply.body = R"({"resourceType":"Patient","id":"-20140000008325"})";
        return reply;
    });
    fixture.point_at(server.port());

    auto result = fixture.get("/v2/fhir/Patient/-20140000008325");

    INFO(host);
    REQUIRE(result.has_value());
    REQUIRE(server.requests().size() == 1);
    CHECK(server.requests()[0].header("Authorization") == std::string("Bearer ") + fixture_access_token);
    REQUIRE(server.server_names().size() == 1);
    if (host == "localhost")
    {
        CHECK(server.server_names()[0] == "localhost");
    }
    else
    {
        // RFC 6066 does not allow IP literals in SNI.
        CHECK_FALSE(server.server_names()[0].has_value());
    }
}

TEST_CASE("payer client rejects each bad server distinctly", "[security][tls]")
{
    const auto& pki = test_pki::shared();
    auto tls_1_1 = bbsync::test::make_tls_server_context(pki.valid());
    bbsync::test::restrict_to_tls_1_1(*tls_1_1);

    const auto wrong_ip = fetch_from(pki.wrong_name(), "127.0.0.1");
    const auto wrong_host = fetch_from(pki.wrong_name(), "localhost");
    const auto expired = fetch_from(pki.expired());
    const auto self_signed = fetch_from(pki.self_signed());
    const auto untrusted = fetch_from(pki.untrusted_issuer());
    const auto old_protocol = fetch_from(tls_1_1);

    const std::vector<std::pair<const rejection*, const char*>> expected = {
        {&wrong_ip, "IP address mismatch"},
        {&wrong_host, "hostname mismatch"},
        {&expired, "certificate has expired"},
        {&self_signed, "self-signed certificate"},
        {&untrusted, "unable to get local issuer certificate"},
        {&old_protocol, "protocol"},
    };
    std::set<std::string> messages;
    for (const auto& [outcome, reason] : expected)
    {
        INFO("expected reason: " << reason << "; message: " << outcome->message);
        CHECK(outcome->error_class == "payer.transport");
        std::string lower = outcome->message;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
        });
        std::string lower_reason = reason;
        std::transform(lower_reason.begin(), lower_reason.end(), lower_reason.begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
        });
        CHECK(contains(lower, lower_reason));
        CHECK_FALSE(contains(outcome->message, fixture_access_token));
        // The handshake failed, so no request and no Authorization header reached the server.
        CHECK(outcome->requests == 0);
        messages.insert(outcome->message);
    }
    CHECK(messages.size() == expected.size());

    // Verification failures name the X.509 check, while the protocol rejection comes from the handshake.
    CHECK(contains(expired.message, "tls_verify"));
    CHECK_FALSE(contains(old_protocol.message, "tls_verify"));
}

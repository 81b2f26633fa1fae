#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "daemon/payer/payer_client.hpp"
#include "daemon/service/config.hpp"

using bbsync::config;
using bbsync::eob_search_target;
using bbsync::next_link_target;

namespace {

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

config payer_settings(std::uint16_t port = 443)
{
    config settings;
    settings.payer = {"sandbox.bluebutton.cms.gov", port};
    settings.payer_fhir_path = "/v2/fhir";
    settings.eob_count = 25;
    return settings;
}

}  // namespace

TEST_CASE("EOB search target carries patient and count", "[daemon]")
{
    const auto target = eob_search_target(payer_settings(), "-20140000008325", std::nullopt, std::nullopt);
    CHECK(target == "/v2/fhir/ExplanationOfBenefit?patient=-20140000008325&_count=25");
}

TEST_CASE("EOB search target adds startIndex", "[daemon]")
{
    const auto target = eob_search_target(payer_settings(), "-20140000008325", std::nullopt, 50);
    CHECK(contains(target, "&startIndex=50"));
    CHECK(contains(target, "&_count=25"));
}

TEST_CASE("EOB search target encodes the watermark", "[daemon]")
{
    const auto target = eob_search_target(
        payer_settings(), "-20140000008325", std::string("2024-01-02T03:04:05.678+00:00"), 0
    );
    INFO(target);
    CHECK(contains(target, "&_lastUpdated=gt2024-01-02T03%3A04%3A05.678%2B00%3A00"));
    CHECK_FALSE(contains(target, "+"));
    CHECK(contains(target, "&startIndex=0"));
}

TEST_CASE("EOB search target encodes the patient id", "[daemon]")
{
    const auto target = eob_search_target(payer_settings(), "a+b&c", std::nullopt, std::nullopt);
    CHECK(contains(target, "?patient=a%2Bb%26c&"));
}

TEST_CASE("EOB search target adds type filter", "[daemon]")
{
    auto settings = payer_settings();
    CHECK_FALSE(contains(eob_search_target(settings, "p1", std::nullopt, std::nullopt), "type="));

    settings.eob_type_filter = true;
    const auto target = eob_search_target(settings, "p1", std::nullopt, std::nullopt);
    INFO(target);
    CHECK(contains(target, "&type=carrier%2Cdme%2Chha%2Chospice%2Cinpatient%2Coutpatient%2Cpde%2Csnf"));
}

TEST_CASE("next link on the payer host keeps its query", "[daemon]")
{
    const std::string link =
        "https://sandbox.bluebutton.cms.gov/v2/fhir/ExplanationOfBenefit"
        "?_format=application%2Fjson%2Bfhir&startIndex=10&_count=10&patient=-19990000000001";
    const auto target = next_link_target(payer_settings(), link);
    REQUIRE(target.has_value());
    CHECK(
        *target == "/v2/fhir/ExplanationOfBenefit?_format=application%2Fjson%2Bfhir&startIndex=10&_count=10"
                   "&patient=-19990000000001"
    );

    const auto explicit_port =
        next_link_target(payer_settings(), "https://sandbox.bluebutton.cms.gov:443/v2/fhir?_getpages=x");
    REQUIRE(explicit_port.has_value());
    CHECK(*explicit_port == "/v2/fhir?_getpages=x");
}

TEST_CASE("next link on the configured port is accepted", "[daemon]")
{
    const auto target =
        next_link_target(payer_settings(8443), "https://sandbox.bluebutton.cms.gov:8443/fhir/EOB?page=2");
    REQUIRE(target.has_value());
    CHECK(*target == "/fhir/EOB?page=2");
}

TEST_CASE("next link elsewhere is rejected", "[daemon]")
{
    const std::string secret_query = "patient=-19990000000001";
    const char* links[] = {
        "https://evil.example/v2/fhir/ExplanationOfBenefit?patient=-19990000000001",
        "https://sandbox.bluebutton.cms.gov:8443/v2/fhir/ExplanationOfBenefit?patient=-19990000000001",
        "http://sandbox.bluebutton.cms.gov/v2/fhir/ExplanationOfBenefit?patient=-19990000000001",
        "https://sandbox.bluebutton.cms.gov.evil.example/v2/fhir?patient=-19990000000001",
        "/v2/fhir/ExplanationOfBenefit?patient=-19990000000001",
        "not a link",
        "",
    };
    for (const char* link : links)
    {
        INFO(link);
        const auto target = next_link_target(payer_settings(), link);
        REQUIRE_FALSE(target.has_value());
        CHECK(target.error().error_class == "payer.foreign_next_link");
        CHECK_FALSE(target.error().retryable);
        CHECK_FALSE(contains(target.error().message, secret_query));
    }
}

TEST_CASE("next link defaults to port 443", "[daemon]")
{
    const auto target = next_link_target(payer_settings(8443), "https://sandbox.bluebutton.cms.gov/fhir/EOB");
    REQUIRE_FALSE(target.has_value());
    CHECK(target.error().error_class == "payer.foreign_next_link");
}

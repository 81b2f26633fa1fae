#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sandbox/fhir_json_writer.hpp"
#include "sandbox/fhir_time.hpp"
#include "sandbox/options.hpp"

namespace sandbox = bbsync::sandbox;

TEST_CASE("instants parse with offsets and partial precision", "[sandbox]")
{
    const auto base = sandbox::parse_instant_us("2024-03-01T10:00:00Z");
    REQUIRE(base);
    CHECK(sandbox::parse_instant_us("2024-03-01T10:00:00+00:00") == base);
    CHECK(sandbox::parse_instant_us("2024-03-01T05:00:00-05:00") == base);
    CHECK(sandbox::parse_instant_us("2024-03-01T10:00") == base);
    CHECK(sandbox::parse_instant_us("2024-03-01T10:00:00.5Z") == *base + 500000);
    CHECK(sandbox::parse_instant_us("2024-03-01") == *base - 10LL * 3600 * 1000000);
    CHECK_FALSE(sandbox::parse_instant_us("2024-02-30"));
    CHECK_FALSE(sandbox::parse_instant_us("2024-03-01T25:00:00Z"));
    CHECK_FALSE(sandbox::parse_instant_us("2024-03-01T10:00:00+0500"));
    CHECK(sandbox::format_instant(*base / 1000) == "2024-03-01T10:00:00.000+00:00");
}

TEST_CASE("money keeps two decimals and decimals keep a point", "[sandbox]")
{
    boost::json::value resource = {
        {"amount", {{"value", 17.3}, {"currency", "USD"}}}, {"quantity", 42.0}, {"count", 3}};
    CHECK(
        sandbox::to_fhir_json(resource) ==
        R"({"amount":{"value":17.30,"currency":"USD"},"quantity":42.0,"count":3})"
    );
}

TEST_CASE("options reject values outside their range", "[sandbox]")
{
    const auto parse = [](std::vector<const char*> args) {
        args.insert(args.begin(), "bbsync-sandbox");
        return sandbox::parse_options(static_cast<int>(args.size()), args.data());
    };
    const auto ok = parse({"--state-dir", "/tmp/x", "--patients", "5", "--seed=9"});
    REQUIRE(std::holds_alternative<sandbox::options>(ok));
    CHECK(std::get<sandbox::options>(ok).patients == 5);
    CHECK(std::get<sandbox::options>(ok).seed == 9);
    CHECK(std::get<sandbox::options>(ok).eobs_per_patient == 20);

    const auto bad = parse({"--state-dir", "/tmp/x", "--patients", "0"});
    REQUIRE(std::holds_alternative<sandbox::invalid_options>(bad));
    CHECK(std::get<sandbox::invalid_options>(bad).message.find("--patients") != std::string::npos);
    CHECK(std::get<sandbox::invalid_options>(bad).message.find("1 to 100000") != std::string::npos);
    CHECK(std::holds_alternative<sandbox::invalid_options>(parse({"--patients", "3"})));
    CHECK(std::holds_alternative<sandbox::invalid_options>(
        parse({"--state-dir", "/tmp/x", "--access-token-lifetime", "0"})
    ));
    CHECK(std::holds_alternative<sandbox::invalid_options>(parse({"--state-dir", "/tmp/x", "--bogus"})));
    CHECK(std::holds_alternative<sandbox::help_requested>(parse({"--help"})));
}

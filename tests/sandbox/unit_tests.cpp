#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sandbox/datacloud_schema.hpp"
#include "sandbox/fhir_json_writer.hpp"
#include "sandbox/fhir_time.hpp"
#include "sandbox/options.hpp"
#include "sandbox/request_parsing.hpp"

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

TEST_CASE("options parse mode and Data Cloud token lifetime", "[sandbox]")
{
    const auto parse = [](std::vector<const char*> args) {
        args.insert(args.begin(), "bbsync-sandbox");
        return sandbox::parse_options(static_cast<int>(args.size()), args.data());
    };
    const auto defaults = parse({"--state-dir", "/tmp/x"});
    REQUIRE(std::holds_alternative<sandbox::options>(defaults));
    CHECK(std::get<sandbox::options>(defaults).mode == sandbox::payer_mode::bluebutton);
    CHECK(std::get<sandbox::options>(defaults).dc_token_lifetime_seconds == 7200);

    const auto set = parse({"--state-dir", "/tmp/x", "--mode", "carin", "--dc-token-lifetime=60"});
    REQUIRE(std::holds_alternative<sandbox::options>(set));
    CHECK(std::get<sandbox::options>(set).mode == sandbox::payer_mode::carin);
    CHECK(std::get<sandbox::options>(set).dc_token_lifetime_seconds == 60);

    const auto bad_mode = parse({"--state-dir", "/tmp/x", "--mode", "c4bb"});
    REQUIRE(std::holds_alternative<sandbox::invalid_options>(bad_mode));
    CHECK(
        std::get<sandbox::invalid_options>(bad_mode).message.find("bluebutton or carin") != std::string::npos
    );
    CHECK(std::holds_alternative<sandbox::invalid_options>(
        parse({"--state-dir", "/tmp/x", "--dc-token-lifetime", "0"})
    ));
}

TEST_CASE("schema reader reads the YAML subset", "[sandbox]")
{
    const auto schema = sandbox::datacloud_schema::parse(R"(# comment
openapi: 3.0.3
components:
  schemas:
    Claim:
      type: object
      properties:
        id:
          type: string
          description: 'Primary key: it''s the id.'
        amount:
          type: number   # trailing comment
        paid:
          type: "boolean"
        day:
          type: string
          format: date
        at:
          type: string
          format: date-time
)");
    REQUIRE(schema.has_object("Claim"));
    CHECK_FALSE(schema.has_object("Other"));
    const auto& fields = schema.objects().at("Claim");
    CHECK(fields.size() == 5);
    CHECK(fields.at("amount") == sandbox::datacloud_field_type::number);
    CHECK(fields.at("paid") == sandbox::datacloud_field_type::boolean);
    CHECK(fields.at("day") == sandbox::datacloud_field_type::date);
    CHECK(fields.at("at") == sandbox::datacloud_field_type::date_time);

    const auto record =
        boost::json::parse(R"({"id":"1","amount":2,"paid":true,"day":"2024-02-29","at":null})");
    CHECK_FALSE(schema.check_record("Claim", record));
    CHECK(schema.check_record("Claim", boost::json::parse(R"({"amount":2})")) == "missing id");
    CHECK(schema.check_record("Claim", boost::json::parse(R"({"id":""})")) == "id is not a non-empty string");

    CHECK_THROWS(sandbox::datacloud_schema::parse("components:\n  schemas:\n    - Claim\n"));
    CHECK_THROWS(sandbox::datacloud_schema::parse("components: {schemas: {}}\n"));
    CHECK_THROWS(sandbox::datacloud_schema::parse(
        "components:\n  schemas:\n    A:\n      properties:\n        id:\n          type: integer\n"
    ));
}

TEST_CASE("Data Cloud dates and date-times", "[sandbox]")
{
    CHECK(sandbox::is_datacloud_date("2024-02-29"));
    CHECK_FALSE(sandbox::is_datacloud_date("2023-02-29"));
    CHECK_FALSE(sandbox::is_datacloud_date("2024-2-09"));
    CHECK(sandbox::is_datacloud_date_time("2024-03-01T10:00:00.000Z"));
    CHECK(sandbox::is_datacloud_date_time("2024-03-01T10:00:00-05:00"));
    CHECK_FALSE(sandbox::is_datacloud_date_time("2024-03-01T10:00Z"));
    CHECK_FALSE(sandbox::is_datacloud_date_time("2024-03-01 10:00:00Z"));
    CHECK_FALSE(sandbox::is_datacloud_date_time("2024-03-01T10:00:00"));
}

TEST_CASE("ifNoneExist values are found by scanning", "[sandbox]")
{
    const std::string body = R"({"entry":[{"request":{"ifNoneExist":"identifier=a|1"}},)"
                             R"({"request":{"ifNoneExist" : "identifier=b|\"2\""}},)"
                             R"({"request":{"url":"Encounter"}},{"request":{"ifNoneExist":)";
    CHECK(
        sandbox::if_none_exist_values(body) ==
        std::vector<std::string>{"identifier=a|1", R"(identifier=b|\"2\")"}
    );
    CHECK(sandbox::if_none_exist_values("").empty());
    CHECK(sandbox::if_none_exist_values(R"({"ifNoneExist":"unterminated)").empty());
}

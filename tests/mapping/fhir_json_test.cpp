#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "daemon/mapping/fhir_json.hpp"
#include "daemon/mapping/fhir_json_error.hpp"

namespace {

using namespace bbsync::mapping;

std::string round_trip(std::string_view text)
{
    const auto parsed = parse_fhir_json(text);
    REQUIRE(parsed.has_value());
    return serialize_fhir_json(*parsed);
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("numbers survive parse and serialize byte-exact", "[mapping]")
{
    const char* const numbers[] = {
        "10.10",
        "1e400",
        "-1e400",
        "-0.0",
        "-0",
        "0.0",
        "1180591620717411303424",    // 2^70
        "18446744073709551617",      // 2^64 + 1
        "-9223372036854775809",      // one below int64 minimum
        "0.1000000000000000055511",  // more digits than a double can represent
        "3.14159265358979323846",
        "60.0",
        "6E1",
        "1E+2",
        "2.5e-3",
        "1e-400",
    };
    for (const char* number : numbers)
    {
        INFO(number);
        CHECK(round_trip(number) == number);
        const std::string in_object = std::string(R"({"value":)") + number + "}";
        CHECK(round_trip(in_object) == in_object);
    }
}

TEST_CASE("decimal with trailing zero is kept as text", "[mapping]")
{
    const auto parsed = parse_fhir_json(R"({"value":10.10})");
    REQUIRE(parsed.has_value());
    const boost::json::value& value = parsed->at("value");
    CHECK(value.is_string());
    REQUIRE(kept_number_text(value).has_value());
    CHECK(*kept_number_text(value) == "10.10");
    CHECK(is_json_number(value));
}

TEST_CASE("plain integers stay int64 and short decimals stay double", "[mapping]")
{
    const auto parsed = parse_fhir_json(R"([42,-7,0,18446744073709551615,10.5,0.25,199.99])");
    REQUIRE(parsed.has_value());
    const boost::json::array& numbers = parsed->as_array();
    CHECK(numbers[0].is_int64());
    CHECK(numbers[1].is_int64());
    CHECK(numbers[2].is_int64());
    CHECK(numbers[3].is_uint64());
    CHECK(numbers[4].is_double());
    CHECK(numbers[5].is_double());
    CHECK(numbers[6].is_double());
    CHECK(serialize_fhir_json(*parsed) == "[42,-7,0,18446744073709551615,10.5,0.25,199.99]");
}

TEST_CASE("strings and structure serialize like the input", "[mapping]")
{
    const std::string text = R"({"a":"x\"y\\z\n\t\u0001/","b":[true,false,null],"c":{},"d":[],"é":"ü€😀"})";
    CHECK(round_trip(text) == text);
    CHECK(round_trip(R"(  { "a" : [ 1 , 2 ] }  )") == R"({"a":[1,2]})");
}

TEST_CASE("nesting deeper than 32 levels is rejected", "[mapping]")
{
    CHECK(parse_fhir_json(nested_arrays(32)).has_value());

    const auto deep = parse_fhir_json(nested_arrays(40));
    REQUIRE(deep.has_error());
    CHECK(deep.error() == fhir_json_errc::too_deep);
    CHECK(describe_parse_error(deep.error(), parse_limits{}) == "JSON nesting deeper than 32 levels");

    std::string nested_objects;
    for (int i = 0; i < 40; ++i)
    {
        nested_objects += R"({"a":)";
    }
    nested_objects += "1" + std::string(40, '}');
    const auto objects = parse_fhir_json(nested_objects);
    REQUIRE(objects.has_error());
    CHECK(objects.error() == fhir_json_errc::too_deep);
}

TEST_CASE("max_depth limit is configurable", "[mapping]")
{
    parse_limits limits;
    limits.max_depth = 4;
    CHECK(parse_fhir_json(nested_arrays(4), limits).has_value());
    const auto deep = parse_fhir_json(nested_arrays(5), limits);
    REQUIRE(deep.has_error());
    CHECK(describe_parse_error(deep.error(), limits) == "JSON nesting deeper than 4 levels");
}

TEST_CASE("text over max_bytes is rejected", "[mapping]")
{
    parse_limits limits;
    limits.max_bytes = 8;
    CHECK(parse_fhir_json("[1,2,3]", limits).has_value());
    const auto large = parse_fhir_json("[1,2,3,4]", limits);
    REQUIRE(large.has_error());
    CHECK(large.error() == fhir_json_errc::too_large);
}

TEST_CASE("invalid UTF-8 is rejected", "[mapping]")
{
    const char* const invalid[] = {
        "\"\xff\"",              // never valid
        "\"\xc3\"",              // truncated two-byte sequence
        "\"\xc0\xaf\"",          // overlong '/'
        "\"\xed\xa0\x80\"",      // UTF-16 surrogate
        "\"\xf4\x90\x80\x80\"",  // above U+10FFFF
        "{\"k\xfe\":1}",         // in a key
        "\"\xe2\x82\"",          // truncated three-byte sequence
    };
    for (const char* text : invalid)
    {
        INFO(text);
        const auto parsed = parse_fhir_json(text);
        REQUIRE(parsed.has_error());
        CHECK(parsed.error() == fhir_json_errc::invalid_utf8);
    }
    CHECK(
        describe_parse_error(make_error_code(fhir_json_errc::invalid_utf8), {}) ==
        "JSON text is not valid UTF-8: the sender must encode text as UTF-8"
    );
}

TEST_CASE("kept-number prefix cannot be forged from JSON text", "[mapping]")
{
    // An escaped U+00FF is encoded as the two UTF-8 bytes C3 BF, never as the byte FF.
    const auto parsed = parse_fhir_json(R"(["\u00ff10.10"])");
    REQUIRE(parsed.has_value());
    CHECK_FALSE(kept_number_text(parsed->as_array()[0]).has_value());
    CHECK(
        serialize_fhir_json(*parsed) == "[\"\xc3\xbf"
                                        "10.10\"]"
    );
}

TEST_CASE("syntax errors keep Boost.JSON error codes", "[mapping]")
{
    const auto trailing = parse_fhir_json("{} x");
    REQUIRE(trailing.has_error());
    CHECK(trailing.error() == boost::json::error::extra_data);

    const auto incomplete = parse_fhir_json(R"({"a":)");
    REQUIRE(incomplete.has_error());
    CHECK(incomplete.error() == boost::json::error::incomplete);

    CHECK(parse_fhir_json("").has_error());
    CHECK(parse_fhir_json("[1,]").has_error());
    CHECK(parse_fhir_json("01").has_error());
}

TEST_CASE("serialize writes special doubles as valid JSON", "[mapping]")
{
    boost::json::array values{
        1e21, -0.0, 0.1, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
    CHECK(serialize_fhir_json(values) == "[1e+21,-0,0.1,1e99999,null]");
    CHECK(boost::json::parse(serialize_fhir_json(values)).is_array());
}

TEST_CASE("malformed kept number is written as a string", "[mapping]")
{
    const boost::json::value forged = boost::json::string("\xff"
                                                          "12abc");
    CHECK_FALSE(kept_number_text(forged).has_value());
    CHECK_FALSE(make_kept_number("12abc").has_value());
    CHECK(
        serialize_fhir_json(forged) == "\"\xff"
                                       "12abc\""
    );

    const auto kept = make_kept_number("12.50");
    REQUIRE(kept.has_value());
    CHECK(serialize_fhir_json(*kept) == "12.50");
}

TEST_CASE("number text grammar follows RFC 8259", "[mapping]")
{
    CHECK(is_json_number_text("0"));
    CHECK(is_json_number_text("-0.5e+10"));
    CHECK(is_json_number_text("123E-4"));
    CHECK_FALSE(is_json_number_text(""));
    CHECK_FALSE(is_json_number_text("-"));
    CHECK_FALSE(is_json_number_text("01"));
    CHECK_FALSE(is_json_number_text("1."));
    CHECK_FALSE(is_json_number_text(".5"));
    CHECK_FALSE(is_json_number_text("1e"));
    CHECK_FALSE(is_json_number_text("+1"));
    CHECK_FALSE(is_json_number_text("NaN"));
}

TEST_CASE("fixtures read back equal to Boost.JSON parse", "[mapping]")
{
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(BBSYNC_FIXTURES_DIR))
    {
        if (entry.path().extension() != ".json")
        {
            continue;
        }
        INFO(entry.path().string());
        const std::string text = read_file(entry.path());
        const auto parsed = parse_fhir_json(text);
        REQUIRE(parsed.has_value());
        const std::string written = serialize_fhir_json(*parsed);
        CHECK(boost::json::parse(written) == boost::json::parse(text));
        CHECK(serialize_fhir_json(*parse_fhir_json(written)) == written);
        ++files;
    }
    CHECK(files > 40);
}

TEST_CASE("parse and serialize are deterministic", "[mapping]")
{
    const std::string text = read_file(
        std::filesystem::path(BBSYNC_FIXTURES_DIR) / "bluebutton/cms-bb2-node-sdk-eob-pages/eob_p0.json"
    );
    const std::string first = serialize_fhir_json(*parse_fhir_json(text));
    const std::string second = serialize_fhir_json(*parse_fhir_json(text));
    CHECK(first == second);
}

TEST_CASE("an object serializes like the same object held in a value", "[mapping]")
{
    const auto parsed = parse_fhir_json(R"({"b":[1,10.10,{"c":"\u0001"}],"a":null,"d":{"e":true}})");
    REQUIRE(parsed.has_value());
    const auto& object = parsed->as_object();
    CHECK(serialize_fhir_json(object) == serialize_fhir_json(*parsed));
    CHECK(serialize_fhir_json(object) == R"({"b":[1,10.10,{"c":"\u0001"}],"a":null,"d":{"e":true}})");
    CHECK(serialize_fhir_json(boost::json::object{}) == "{}");
}

#include <string_view>

#include "daemon/mapping/fhir_checks.hpp"

using namespace bbsync::mapping;

TEST_CASE("NPI check accepts real-format NPIs", "[mapping]")
{
    CHECK(is_valid_npi("1306849450"));
    CHECK(is_valid_npi("1750384806"));
    CHECK(is_valid_npi("1023011079"));
    CHECK(is_valid_npi("1234567893"));
}

TEST_CASE("NPI check rejects placeholders", "[mapping]")
{
    CHECK_FALSE(is_valid_npi("0000000000"));
    CHECK_FALSE(is_valid_npi("1234567890"));
    CHECK_FALSE(is_valid_npi("2222222222"));
    CHECK_FALSE(is_valid_npi("345345345"));
    CHECK_FALSE(is_valid_npi("13068494500"));
    CHECK_FALSE(is_valid_npi("K25852"));
    CHECK_FALSE(is_valid_npi("130684945X"));
    CHECK_FALSE(is_valid_npi(""));
}

TEST_CASE("FHIR id check follows the id grammar", "[mapping]")
{
    CHECK(is_fhir_id("carrier--10344810963"));
    CHECK(is_fhir_id("EOBInpatient1"));
    CHECK(is_fhir_id("a.b-C"));
    CHECK(is_fhir_id(std::string(64, 'a')));
    CHECK_FALSE(is_fhir_id(std::string(65, 'a')));
    CHECK_FALSE(is_fhir_id(""));
    CHECK_FALSE(is_fhir_id("a#b"));
    CHECK_FALSE(is_fhir_id("a b"));
    CHECK_FALSE(is_fhir_id("a/b"));
}

TEST_CASE("FHIR date checks accept partial dates", "[mapping]")
{
    CHECK(is_fhir_date("2016"));
    CHECK(is_fhir_date("2016-01"));
    CHECK(is_fhir_date("2016-01-15"));
    CHECK_FALSE(is_fhir_date("2016-13-01"));
    CHECK_FALSE(is_fhir_date("2016-01-32"));
    CHECK_FALSE(is_fhir_date("2016-1-5"));
    CHECK_FALSE(is_fhir_date("IGNORED_FIELD"));
    CHECK_FALSE(is_fhir_date(""));
}

TEST_CASE("dateTime with time requires zone", "[mapping]")
{
    CHECK(is_fhir_date_time("2016-01-16T00:00:00+00:00"));
    CHECK(is_fhir_date_time("2016-01-16"));
    CHECK(is_fhir_date_time("2016-01-16T10:11:12.345Z"));
    CHECK_FALSE(is_fhir_date_time("2016-01-16T10:11:12"));
    CHECK_FALSE(is_fhir_date_time("2016-01-16T10:11"));
    CHECK_FALSE(is_fhir_date_time("2016-01-16T10:11:12.Z"));

    CHECK(is_fhir_instant("2020-04-28T15:39:36-04:00"));
    CHECK(is_fhir_instant("2023-01-05T17:04:30.123-05:00"));
    CHECK_FALSE(is_fhir_instant("2020-04-28"));
    CHECK_FALSE(is_fhir_instant("IGNORED_FIELD"));
    CHECK_FALSE(is_fhir_instant("2020-04-28T25:00:00Z"));
}

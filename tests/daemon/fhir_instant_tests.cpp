#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "daemon/common/fhir_instant.hpp"

using bbsync::instant;
using bbsync::parse_fhir_instant;

namespace {

// Builds a UTC instant from calendar fields.
instant utc(int year, unsigned month, unsigned day, int hour, int minute, int second, long micros = 0)
{
    namespace chrono = std::chrono;
    const chrono::sys_days date = chrono::year(year) / chrono::month(month) / chrono::day(day);
    return chrono::time_point_cast<chrono::microseconds>(date) + chrono::hours(hour) +
           chrono::minutes(minute) + chrono::seconds(second) + chrono::microseconds(micros);
}

}  // namespace

TEST_CASE("instant with Z parses as UTC", "[daemon]")
{
    CHECK(parse_fhir_instant("2024-03-01T10:20:30Z") == utc(2024, 3, 1, 10, 20, 30));
}

TEST_CASE("instant with positive offset converts to UTC", "[daemon]")
{
    CHECK(parse_fhir_instant("2024-03-01T10:20:30+02:30") == utc(2024, 3, 1, 7, 50, 30));
    CHECK(parse_fhir_instant("2024-03-01T00:10:00+01:00") == utc(2024, 2, 29, 23, 10, 0));
}

TEST_CASE("instant with negative offset converts to UTC", "[daemon]")
{
    CHECK(parse_fhir_instant("2024-03-01T10:20:30-05:00") == utc(2024, 3, 1, 15, 20, 30));
    CHECK(parse_fhir_instant("2024-12-31T22:00:00-03:00") == utc(2025, 1, 1, 1, 0, 0));
}

TEST_CASE("instant fraction of 1 to 9 digits", "[daemon]")
{
    CHECK(parse_fhir_instant("2024-03-01T10:20:30.1Z") == utc(2024, 3, 1, 10, 20, 30, 100000));
    CHECK(parse_fhir_instant("2024-03-01T10:20:30.12Z") == utc(2024, 3, 1, 10, 20, 30, 120000));
    CHECK(parse_fhir_instant("2024-03-01T10:20:30.123+00:00") == utc(2024, 3, 1, 10, 20, 30, 123000));
    CHECK(parse_fhir_instant("2024-03-01T10:20:30.123456Z") == utc(2024, 3, 1, 10, 20, 30, 123456));
    CHECK(parse_fhir_instant("2024-03-01T10:20:30.1234567Z") == utc(2024, 3, 1, 10, 20, 30, 123456));
    CHECK(parse_fhir_instant("2024-03-01T10:20:30.123456789Z") == utc(2024, 3, 1, 10, 20, 30, 123456));
    CHECK(parse_fhir_instant("2024-03-01T10:20:30.000000001Z") == utc(2024, 3, 1, 10, 20, 30));
}

TEST_CASE("instant fraction of 0 or 10 digits is rejected", "[daemon]")
{
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20:30.Z"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20:30.1234567890Z"));
}

TEST_CASE("date without time is rejected", "[daemon]")
{
    CHECK_FALSE(parse_fhir_instant("2024-03-01"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20Z"));
}

TEST_CASE("instant without offset is rejected", "[daemon]")
{
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20:30"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20:30.123"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20:30+02"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20:30+0200"));
}

TEST_CASE("garbage instant is rejected", "[daemon]")
{
    CHECK_FALSE(parse_fhir_instant(""));
    CHECK_FALSE(parse_fhir_instant("yesterday"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01 10:20:30Z"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20:30Zjunk"));
    CHECK_FALSE(parse_fhir_instant("2024-3-1T10:20:30Z"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:20:30+24:00"));
}

TEST_CASE("impossible calendar dates are rejected", "[daemon]")
{
    CHECK_FALSE(parse_fhir_instant("2024-02-30T00:00:00Z"));
    CHECK_FALSE(parse_fhir_instant("2023-02-29T00:00:00Z"));
    CHECK_FALSE(parse_fhir_instant("2024-13-01T00:00:00Z"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T24:00:00Z"));
    CHECK_FALSE(parse_fhir_instant("2024-03-01T10:60:00Z"));
    CHECK(parse_fhir_instant("2024-02-29T00:00:00Z") == utc(2024, 2, 29, 0, 0, 0));
}

#include <catch2/catch.hpp>

#include <chrono>

#include "store/clock.hpp"

using namespace std::chrono;
using bbsync::store::to_iso;
using bbsync::store::utc_now_iso;

TEST_CASE("to_iso formats UTC with milliseconds", "[store]")
{
    const sys_days day = year{2026} / December / 4;
    CHECK(to_iso(day + 16h + 123ms) == "2026-12-04T16:00:00.123Z");
    CHECK(to_iso(day + 23h + 59min + 59s + 999ms) == "2026-12-04T23:59:59.999Z");
    CHECK(to_iso(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("to_iso truncates sub-millisecond digits", "[store]")
{
    const sys_days day = year{2024} / February / 29;
    CHECK(to_iso(day + 1h + 2min + 3s + 456789us) == "2024-02-29T01:02:03.456Z");
}

TEST_CASE("to_iso handles times before 1970", "[store]")
{
    CHECK(to_iso(system_clock::time_point{} - 1ms) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("utc_now_iso has the schema's shape", "[store]")
{
    const std::string now = utc_now_iso();
    REQUIRE(now.size() == 24);
    CHECK(now[4] == '-');
    CHECK(now[10] == 'T');
    CHECK(now[19] == '.');
    CHECK(now.back() == 'Z');
    CHECK(now >= "2024-01-01T00:00:00.000Z");
}

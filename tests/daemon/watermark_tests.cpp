#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "daemon/common/fhir_instant.hpp"
#include "daemon/sync/sync_job.hpp"

using bbsync::advance_watermark;
using bbsync::eob_write_state;

namespace {

eob_write_state eob(const std::string& last_updated, bool confirmed)
{
    eob_write_state state;
    state.last_updated = bbsync::parse_fhir_instant(last_updated);
    REQUIRE(state.last_updated);
    state.last_updated_text = last_updated;
    state.confirmed = confirmed;
    return state;
}

eob_write_state eob_without_last_updated(bool confirmed)
{
    eob_write_state state;
    state.confirmed = confirmed;
    return state;
}

}  // namespace

TEST_CASE("watermark moves to the latest when all are confirmed", "[daemon]")
{
    const std::vector<eob_write_state> eobs = {
        eob("2024-01-02T00:00:00Z", true),
        eob("2024-01-03T00:00:00Z", true),
        eob("2024-01-01T00:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-03T00:00:00Z");
    CHECK(advance_watermark(std::string("2023-12-31T00:00:00Z"), eobs) == "2024-01-03T00:00:00Z");
}

TEST_CASE("watermark stays below an unconfirmed EOB", "[daemon]")
{
    const std::vector<eob_write_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob("2024-01-02T00:00:00Z", true),
        eob("2024-01-03T00:00:00Z", false),
        eob("2024-01-04T00:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-02T00:00:00Z");
}

TEST_CASE("watermark excludes EOBs tied with a failed one", "[daemon]")
{
    const std::vector<eob_write_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob("2024-01-02T00:00:00Z", true),
        eob("2024-01-02T00:00:00Z", false),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-01T00:00:00Z");
}

TEST_CASE("watermark stays when the earliest EOB failed", "[daemon]")
{
    const std::vector<eob_write_state> eobs = {
        eob("2024-01-01T00:00:00Z", false),
        eob("2024-01-02T00:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == std::nullopt);
}

TEST_CASE("unconfirmed EOB without lastUpdated blocks the watermark", "[daemon]")
{
    const std::vector<eob_write_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob_without_last_updated(false),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == std::nullopt);
}

TEST_CASE("confirmed EOB without lastUpdated is skipped", "[daemon]")
{
    const std::vector<eob_write_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob_without_last_updated(true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-01T00:00:00Z");
}

TEST_CASE("watermark never moves backwards", "[daemon]")
{
    const std::vector<eob_write_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob("2024-01-02T00:00:00Z", true),
    };
    CHECK(advance_watermark(std::string("2024-01-05T00:00:00Z"), eobs) == std::nullopt);
    CHECK(advance_watermark(std::string("2024-01-02T00:00:00Z"), eobs) == std::nullopt);
    CHECK(advance_watermark(std::nullopt, {}) == std::nullopt);
    CHECK(advance_watermark(std::string("2024-01-02T00:00:00Z"), {}) == std::nullopt);
}

TEST_CASE("watermark compares offsets as instants", "[daemon]")
{
    // 10:00+02:00 is 08:00Z, earlier than 09:00Z although its text sorts later.
    const std::vector<eob_write_state> eobs = {
        eob("2024-01-01T10:00:00+02:00", true),
        eob("2024-01-01T09:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-01T09:00:00Z");

    // 04:30-05:00 is 09:30Z, so the unconfirmed EOB blocks 10:00Z but not 09:00Z.
    const std::vector<eob_write_state> blocked = {
        eob("2024-01-01T09:00:00Z", true),
        eob("2024-01-01T04:30:00-05:00", false),
        eob("2024-01-01T10:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, blocked) == "2024-01-01T09:00:00Z");

    // The current watermark 11:00+02:00 is 09:00Z, so 09:30Z is later.
    const std::vector<eob_write_state> later = {eob("2024-01-01T09:30:00Z", true)};
    CHECK(advance_watermark(std::string("2024-01-01T11:00:00+02:00"), later) == "2024-01-01T09:30:00Z");
    CHECK(advance_watermark(std::string("2024-01-01T05:00:00-05:00"), later) == std::nullopt);
}

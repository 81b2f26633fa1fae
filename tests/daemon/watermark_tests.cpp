#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "daemon/sync/eob_ledger.hpp"

using bbsync::eob_ledger;
using bbsync::ledger_store;

namespace {

// One fetched EOB: its meta.lastUpdated text ("" for none) and whether it was confirmed.
struct eob_state
{
    std::string last_updated;
    bool confirmed = false;
};

eob_state eob(const std::string& last_updated, bool confirmed) { return {last_updated, confirmed}; }

eob_state eob_without_last_updated(bool confirmed) { return {"", confirmed}; }

// Records the EOBs under distinct ids and returns the ledger's new watermark.
std::optional<std::string> advance_watermark(
    const std::optional<std::string>& current, const std::vector<eob_state>& eobs
)
{
    ledger_store store;
    eob_ledger ledger(store);
    for (const auto& state : eobs)
    {
        const auto index = ledger.add("eob-" + std::to_string(ledger.size()), state.last_updated);
        REQUIRE(index);
        ledger.set_confirmed(*index, state.confirmed);
    }
    return ledger.advance_watermark(current);
}

}  // namespace

TEST_CASE("watermark moves to the latest when all are confirmed", "[daemon]")
{
    const std::vector<eob_state> eobs = {
        eob("2024-01-02T00:00:00Z", true),
        eob("2024-01-03T00:00:00Z", true),
        eob("2024-01-01T00:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-03T00:00:00Z");
    CHECK(advance_watermark(std::string("2023-12-31T00:00:00Z"), eobs) == "2024-01-03T00:00:00Z");
}

TEST_CASE("watermark stays below an unconfirmed EOB", "[daemon]")
{
    const std::vector<eob_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob("2024-01-02T00:00:00Z", true),
        eob("2024-01-03T00:00:00Z", false),
        eob("2024-01-04T00:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-02T00:00:00Z");
}

TEST_CASE("watermark excludes EOBs tied with a failed one", "[daemon]")
{
    const std::vector<eob_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob("2024-01-02T00:00:00Z", true),
        eob("2024-01-02T00:00:00Z", false),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-01T00:00:00Z");
}

TEST_CASE("watermark stays when the earliest EOB failed", "[daemon]")
{
    const std::vector<eob_state> eobs = {
        eob("2024-01-01T00:00:00Z", false),
        eob("2024-01-02T00:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == std::nullopt);
}

TEST_CASE("unconfirmed EOB without lastUpdated blocks the watermark", "[daemon]")
{
    const std::vector<eob_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob_without_last_updated(false),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == std::nullopt);
}

TEST_CASE("confirmed EOB without lastUpdated is skipped", "[daemon]")
{
    const std::vector<eob_state> eobs = {
        eob("2024-01-01T00:00:00Z", true),
        eob_without_last_updated(true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-01T00:00:00Z");
}

TEST_CASE("watermark never moves backwards", "[daemon]")
{
    const std::vector<eob_state> eobs = {
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
    const std::vector<eob_state> eobs = {
        eob("2024-01-01T10:00:00+02:00", true),
        eob("2024-01-01T09:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, eobs) == "2024-01-01T09:00:00Z");

    // 04:30-05:00 is 09:30Z, so the unconfirmed EOB blocks 10:00Z but not 09:00Z.
    const std::vector<eob_state> blocked = {
        eob("2024-01-01T09:00:00Z", true),
        eob("2024-01-01T04:30:00-05:00", false),
        eob("2024-01-01T10:00:00Z", true),
    };
    CHECK(advance_watermark(std::nullopt, blocked) == "2024-01-01T09:00:00Z");

    // The current watermark 11:00+02:00 is 09:00Z, so 09:30Z is later.
    const std::vector<eob_state> later = {eob("2024-01-01T09:30:00Z", true)};
    CHECK(advance_watermark(std::string("2024-01-01T11:00:00+02:00"), later) == "2024-01-01T09:30:00Z");
    CHECK(advance_watermark(std::string("2024-01-01T05:00:00-05:00"), later) == std::nullopt);
}

TEST_CASE("ledger skips a repeated EOB id", "[daemon]")
{
    ledger_store store;
    eob_ledger ledger(store);
    CHECK(ledger.add("carrier--1", "2024-01-01T00:00:00Z") == 0u);
    CHECK(ledger.add("carrier--2", "2024-01-02T00:00:00Z") == 1u);
    CHECK(ledger.add("carrier--1", "2024-01-03T00:00:00Z") == std::nullopt);
    CHECK(ledger.size() == 2);

    // The repeat changed nothing: confirming both gives the second EOB's time.
    ledger.set_confirmed(0, true);
    ledger.set_confirmed(1, true);
    CHECK(ledger.confirmed_count() == 2);
    CHECK(ledger.advance_watermark(std::nullopt) == "2024-01-02T00:00:00Z");
}

TEST_CASE("ledger keeps thousands of distinct ids", "[daemon]")
{
    // Ids that share prefixes and lengths must all stay distinct and findable.
    ledger_store store;
    eob_ledger ledger(store);
    for (int i = 0; i < 5000; ++i)
    {
        const auto index = ledger.add("pde--" + std::to_string(i), "2024-01-01T00:00:00Z");
        REQUIRE(index == static_cast<std::size_t>(i));
    }
    for (int i = 0; i < 5000; ++i)
    {
        REQUIRE_FALSE(ledger.add("pde--" + std::to_string(i), "2024-01-01T00:00:00Z"));
    }
    CHECK(ledger.add("pde--5000", "2024-01-01T00:00:00Z") == 5000u);
    CHECK(ledger.add("", "2024-01-01T00:00:00Z") == 5001u);
    CHECK_FALSE(ledger.add("", "2024-01-01T00:00:00Z"));
    CHECK(ledger.size() == 5002);
    CHECK(ledger.confirmed_count() == 0);
}

TEST_CASE("ledgers of one store stay apart", "[daemon]")
{
    ledger_store store;
    eob_ledger first(store);
    CHECK(first.add("carrier--1", "2024-01-01T00:00:00Z") == 0u);
    first.set_confirmed(0, true);
    {
        // Another job may fetch the same EOB id; its confirmations are its own.
        eob_ledger second(store);
        CHECK(second.add("carrier--1", "2024-01-05T00:00:00Z") == 0u);
        CHECK(second.confirmed_count() == 0);
        CHECK(second.advance_watermark(std::nullopt) == std::nullopt);
    }
    CHECK(first.confirmed_count() == 1);
    CHECK(first.advance_watermark(std::nullopt) == "2024-01-01T00:00:00Z");

    // A ledger made after another was destroyed starts empty.
    eob_ledger third(store);
    CHECK(third.size() == 0);
    CHECK(third.add("carrier--1", "2024-01-02T00:00:00Z") == 0u);
}

TEST_CASE("ledger returns the watermark text as received", "[daemon]")
{
    // The text goes back to the payer in _lastUpdated, so it keeps its offset and precision.
    ledger_store store;
    eob_ledger ledger(store);
    ledger.set_confirmed(*ledger.add("a", "2024-01-01T10:00:00.123456+02:00"), true);
    ledger.set_confirmed(*ledger.add("b", "2024-01-01T07:00:00Z"), true);
    CHECK(ledger.advance_watermark(std::nullopt) == "2024-01-01T10:00:00.123456+02:00");
}

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "coro/run.hpp"
#include "daemon/sync/create_guard.hpp"

namespace asio = boost::asio;
using bbsync::create_claim;
using bbsync::create_guard;
using bbsync::coro::awaitable;
using bbsync::coro::run_to_completion;

namespace {

constexpr auto time_limit = std::chrono::seconds(5);

// Lets every ready handler run, so that parked coroutines reach their waits.
awaitable<void> let_others_run()
{
    for (int i = 0; i < 4; ++i)
    {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
}

// Claims `keys`, notes the claim in `events`, holds it until `hold` is false, then releases it.
awaitable<void> claim_and_hold(
    create_guard& guard,
    std::vector<std::string> keys,
    std::string name,
    std::vector<std::string>& events,
    const bool& hold
)
{
    co_await guard.claim(keys);
    const create_claim claim(guard, keys);
    events.push_back(name + " claimed");
    while (hold)
    {
        co_await let_others_run();
    }
    events.push_back(name + " released");
}

}  // namespace

TEST_CASE("guard lets disjoint claims through together", "[daemon]")
{
    asio::io_context context;
    create_guard guard(context.get_executor());
    std::vector<std::string> events;
    bool hold = true;

    auto scenario = [&]() -> awaitable<void> {
        asio::co_spawn(
            context,
            claim_and_hold(guard, {"Practitioner/1", "Encounter/a"}, "a", events, hold),
            asio::detached
        );
        asio::co_spawn(
            context,
            claim_and_hold(guard, {"Practitioner/2", "Encounter/b"}, "b", events, hold),
            asio::detached
        );
        co_await let_others_run();
        CHECK(events == std::vector<std::string>{"a claimed", "b claimed"});
        CHECK(guard.claimed() == 4);
        hold = false;
        co_await let_others_run();
    };
    run_to_completion(context, scenario(), time_limit);

    CHECK(events.size() == 4);
    CHECK(guard.claimed() == 0);
}

TEST_CASE("guard holds a claim that shares a key", "[daemon]")
{
    asio::io_context context;
    create_guard guard(context.get_executor());
    std::vector<std::string> events;
    bool hold_first = true;
    bool hold_second = false;

    auto scenario = [&]() -> awaitable<void> {
        asio::co_spawn(
            context,
            claim_and_hold(guard, {"Practitioner/1", "Encounter/a"}, "a", events, hold_first),
            asio::detached
        );
        co_await let_others_run();
        asio::co_spawn(
            context,
            claim_and_hold(guard, {"Encounter/b", "Practitioner/1"}, "b", events, hold_second),
            asio::detached
        );
        co_await let_others_run();
        CHECK(events == std::vector<std::string>{"a claimed"});

        hold_first = false;
        co_await let_others_run();
        co_await let_others_run();
    };
    run_to_completion(context, scenario(), time_limit);

    CHECK(events == std::vector<std::string>{"a claimed", "a released", "b claimed", "b released"});
    CHECK(guard.claimed() == 0);
}

TEST_CASE("cancelled guard waiter claims nothing", "[daemon]")
{
    asio::io_context context;
    create_guard guard(context.get_executor());
    std::vector<std::string> events;
    bool hold = true;
    asio::cancellation_signal cancel;
    std::exception_ptr waiter_error;
    bool waiter_done = false;
    // claim() keeps a reference to its keys until it returns.
    const std::vector<std::string> waiter_keys = {"Practitioner/1", "Encounter/b"};

    auto scenario = [&]() -> awaitable<void> {
        asio::co_spawn(context, claim_and_hold(guard, {"Practitioner/1"}, "a", events, hold), asio::detached);
        co_await let_others_run();
        asio::co_spawn(
            context,
            guard.claim(waiter_keys),
            asio::bind_cancellation_slot(
                cancel.slot(),
                [&](std::exception_ptr error) {
                    waiter_done = true;
                    waiter_error = error;
                }
            )
        );
        co_await let_others_run();
        CHECK_FALSE(waiter_done);

        cancel.emit(asio::cancellation_type::terminal);
        co_await let_others_run();
        CHECK(waiter_done);
        CHECK(guard.claimed() == 1);
        hold = false;
        co_await let_others_run();
    };
    run_to_completion(context, scenario(), time_limit);

    REQUIRE(waiter_error);
    CHECK_THROWS_AS(std::rethrow_exception(waiter_error), boost::system::system_error);
    CHECK(guard.claimed() == 0);
}

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <vector>

#include "coro/async_semaphore.hpp"
#include "coro/run.hpp"

namespace asio = boost::asio;
using bbsync::coro::async_semaphore;
using bbsync::coro::awaitable;
using bbsync::coro::run_to_completion;
using bbsync::coro::semaphore_permit;
using bbsync::coro::use_nothrow;

namespace {

constexpr auto time_limit = std::chrono::seconds(5);

// Lets every handler that is ready run once, so that parked coroutines reach their wait.
awaitable<void> yield_to_others()
{
    auto executor = co_await asio::this_coro::executor;
    co_await asio::post(executor, asio::use_awaitable);
}

awaitable<void> acquire_and_record(async_semaphore& semaphore, std::vector<int>& order, int id)
{
    auto permit = co_await semaphore.acquire();
    order.push_back(id);
}

// Completion handler that stores how a spawned coroutine ended.
struct outcome
{
    bool finished = false;
    std::exception_ptr error;
};

auto record_into(outcome& result)
{
    return [&result](std::exception_ptr error) {
        result.finished = true;
        result.error = error;
    };
}

awaitable<void> hold_permit(async_semaphore& semaphore) { auto permit = co_await semaphore.acquire(); }

std::optional<boost::system::error_code> system_error_code(std::exception_ptr error)
{
    try
    {
        std::rethrow_exception(error);
    }
    catch (const boost::system::system_error& e)
    {
        return e.code();
    }
    catch (...)
    {
        return std::nullopt;
    }
}

// Lets every handler that is ready run, a few times over, so that woken coroutines finish.
awaitable<void> settle()
{
    for (int round = 0; round < 10; ++round)
    {
        co_await yield_to_others();
    }
}

awaitable<void> queue_and_release_in_order(
    asio::io_context& context, async_semaphore& semaphore, std::vector<int>& order
)
{
    // Hold the only permit while five waiters queue up, then let them through one by one.
    REQUIRE(semaphore.try_acquire());
    std::vector<outcome> results(5);
    for (int id = 0; id < 5; ++id)
    {
        asio::co_spawn(context, acquire_and_record(semaphore, order, id), record_into(results[id]));
    }
    co_await yield_to_others();
    REQUIRE(semaphore.waiting() == 5);
    semaphore.release();
    co_await settle();
    for (const auto& result : results)
    {
        CHECK(result.finished);
        CHECK_FALSE(result.error);
    }
}

struct barging_observations
{
    bool taken_while_waiter_queued = true;
    bool taken_while_permit_handed_over = true;
    std::vector<int> order;
};

awaitable<void> try_to_barge(
    asio::io_context& context, async_semaphore& semaphore, barging_observations& seen
)
{
    // One waiter queues behind the held permit, and a newcomer must not overtake it.
    REQUIRE(semaphore.try_acquire());
    outcome waiter;
    asio::co_spawn(context, acquire_and_record(semaphore, seen.order, 1), record_into(waiter));
    co_await yield_to_others();
    REQUIRE(semaphore.waiting() == 1);
    seen.taken_while_waiter_queued = semaphore.try_acquire();

    // The released permit belongs to the waiter even before the waiter resumes.
    semaphore.release();
    seen.taken_while_permit_handed_over = semaphore.try_acquire();
    co_await settle();
    CHECK(waiter.finished);
}

awaitable<void> cancel_queued_waiter(
    asio::io_context& context, async_semaphore& semaphore, outcome& cancelled
)
{
    REQUIRE(semaphore.try_acquire());
    asio::cancellation_signal signal;
    asio::co_spawn(
        context, hold_permit(semaphore), asio::bind_cancellation_slot(signal.slot(), record_into(cancelled))
    );
    co_await yield_to_others();
    REQUIRE(semaphore.waiting() == 1);

    signal.emit(asio::cancellation_type::terminal);
    co_await settle();
    CHECK(semaphore.waiting() == 0);
    CHECK(semaphore.available() == 0);
    semaphore.release();
}

awaitable<void> cancel_middle_waiter(
    asio::io_context& context, async_semaphore& semaphore, std::vector<int>& order
)
{
    // Waiters 0, 1 and 2 queue up and 1 is cancelled. Then 0 and 2 still get their turns in order.
    REQUIRE(semaphore.try_acquire());
    std::vector<outcome> results(3);
    std::vector<asio::cancellation_signal> signals(3);
    for (int id = 0; id < 3; ++id)
    {
        asio::co_spawn(
            context,
            acquire_and_record(semaphore, order, id),
            asio::bind_cancellation_slot(signals[id].slot(), record_into(results[id]))
        );
    }
    co_await yield_to_others();
    signals[1].emit(asio::cancellation_type::terminal);
    co_await settle();
    CHECK(semaphore.waiting() == 2);

    semaphore.release();
    co_await settle();
    CHECK_FALSE(results[0].error);
    CHECK(results[1].error);
    CHECK_FALSE(results[2].error);
}

enum class race_order
{
    release_then_cancel,
    cancel_then_release,
};

awaitable<void> race_release_and_cancel(
    asio::io_context& context, async_semaphore& semaphore, race_order sequence, outcome& waiter
)
{
    REQUIRE(semaphore.try_acquire());
    asio::cancellation_signal signal;
    asio::co_spawn(
        context, hold_permit(semaphore), asio::bind_cancellation_slot(signal.slot(), record_into(waiter))
    );
    co_await yield_to_others();
    REQUIRE(semaphore.waiting() == 1);

    // Both happen before the waiter can resume.
    if (sequence == race_order::release_then_cancel)
    {
        semaphore.release();
        signal.emit(asio::cancellation_type::terminal);
    }
    else
    {
        signal.emit(asio::cancellation_type::terminal);
        semaphore.release();
    }
    co_await settle();
}

awaitable<void> hold_in_scope(async_semaphore& semaphore, std::size_t& available_inside)
{
    {
        auto permit = co_await semaphore.acquire();
        available_inside = semaphore.available();
    }
}

awaitable<void> acquire_then_throw(async_semaphore& semaphore)
{
    auto permit = co_await semaphore.acquire();
    throw std::runtime_error("failure while holding a permit");
}

awaitable<void> catch_failure_of_holder(async_semaphore& semaphore, bool& caught)
{
    try
    {
        co_await acquire_then_throw(semaphore);
    }
    catch (const std::runtime_error&)
    {
        caught = true;
    }
}

}  // namespace

TEST_CASE("semaphore grants permits in FIFO order", "[coro]")
{
    asio::io_context context;
    async_semaphore semaphore(context.get_executor(), 1);
    std::vector<int> order;

    run_to_completion(context, queue_and_release_in_order(context, semaphore, order), time_limit);

    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(semaphore.available() == 1);
    CHECK(semaphore.waiting() == 0);
}

TEST_CASE("semaphore try_acquire never overtakes waiters", "[coro]")
{
    asio::io_context context;
    async_semaphore semaphore(context.get_executor(), 1);
    barging_observations seen;

    run_to_completion(context, try_to_barge(context, semaphore, seen), time_limit);

    CHECK_FALSE(seen.taken_while_waiter_queued);
    CHECK_FALSE(seen.taken_while_permit_handed_over);
    CHECK(seen.order == std::vector<int>{1});
    CHECK(semaphore.available() == 1);
    CHECK(semaphore.try_acquire());
}

TEST_CASE("cancelled semaphore waiter gets operation_aborted", "[coro]")
{
    asio::io_context context;
    async_semaphore semaphore(context.get_executor(), 1);
    outcome cancelled;

    run_to_completion(context, cancel_queued_waiter(context, semaphore, cancelled), time_limit);

    REQUIRE(cancelled.finished);
    REQUIRE(cancelled.error);
    CHECK(system_error_code(cancelled.error) == boost::system::error_code(asio::error::operation_aborted));
    CHECK(semaphore.available() == 1);
    CHECK(semaphore.waiting() == 0);
}

TEST_CASE("semaphore skips a cancelled waiter", "[coro]")
{
    asio::io_context context;
    async_semaphore semaphore(context.get_executor(), 1);
    std::vector<int> order;

    run_to_completion(context, cancel_middle_waiter(context, semaphore, order), time_limit);

    CHECK(order == std::vector<int>{0, 2});
    CHECK(semaphore.available() == 1);
    CHECK(semaphore.waiting() == 0);
}

TEST_CASE("semaphore keeps permit when release races cancel", "[coro]")
{
    const auto sequence = GENERATE(race_order::release_then_cancel, race_order::cancel_then_release);
    asio::io_context context;
    async_semaphore semaphore(context.get_executor(), 1);
    outcome waiter;

    run_to_completion(context, race_release_and_cancel(context, semaphore, sequence, waiter), time_limit);

    CHECK(waiter.finished);
    CHECK(semaphore.available() == 1);
    CHECK(semaphore.waiting() == 0);
}

TEST_CASE("semaphore permit returns on scope exit", "[coro]")
{
    asio::io_context context;
    async_semaphore semaphore(context.get_executor(), 2);
    std::size_t available_inside = 0;

    run_to_completion(context, hold_in_scope(semaphore, available_inside), time_limit);

    CHECK(available_inside == 1);
    CHECK(semaphore.available() == 2);
}

TEST_CASE("semaphore permit returns on exception", "[coro]")
{
    asio::io_context context;
    async_semaphore semaphore(context.get_executor(), 2);
    bool caught = false;

    run_to_completion(context, catch_failure_of_holder(semaphore, caught), time_limit);

    CHECK(caught);
    CHECK(semaphore.available() == 2);
}

TEST_CASE("semaphore permit release is idempotent", "[coro]")
{
    asio::io_context context;
    async_semaphore semaphore(context.get_executor(), 2);
    REQUIRE(semaphore.try_acquire());
    {
        semaphore_permit permit(semaphore);
        semaphore_permit moved = std::move(permit);
        CHECK(semaphore.available() == 1);
        moved.release();
        CHECK(semaphore.available() == 2);
        moved.release();
        permit.release();
        CHECK(semaphore.available() == 2);
    }
    CHECK(semaphore.available() == 2);
}

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "coro/run.hpp"
#include "coro/task_group.hpp"

namespace asio = boost::asio;
using bbsync::coro::awaitable;
using bbsync::coro::run_to_completion;
using bbsync::coro::steady_timer;
using bbsync::coro::task_group;

namespace {

constexpr auto time_limit = std::chrono::seconds(5);

// Long enough that only cancellation ends the timers in these tests.
constexpr auto forever = std::chrono::hours(1);

awaitable<void> yield_times(int count)
{
    auto executor = co_await asio::this_coro::executor;
    for (int i = 0; i < count; ++i)
    {
        co_await asio::post(executor, asio::use_awaitable);
    }
}

awaitable<void> finish_after(int yields, std::vector<int>& finished, int id)
{
    co_await yield_times(yields);
    finished.push_back(id);
}

awaitable<void> throw_after(int yields, std::string message)
{
    co_await yield_times(yields);
    throw std::runtime_error(message);
}

awaitable<void> wait_for_timer(std::vector<boost::system::error_code>& results)
{
    steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(forever);
    auto [ec] = co_await timer.async_wait();
    results.push_back(ec);
}

awaitable<void> wait_for_children(task_group& group, std::vector<int>& finished, std::size_t& running_after)
{
    group.spawn(finish_after(3, finished, 1));
    group.spawn(finish_after(1, finished, 2));
    group.spawn(finish_after(5, finished, 3));
    co_await group.wait();
    running_after = group.running();
}

struct failure_observations
{
    std::string message;
    std::vector<int> finished_before_rethrow;
};

awaitable<void> collect_first_failure(
    task_group& group, std::vector<int>& finished, failure_observations& seen
)
{
    group.spawn(throw_after(2, "first failure"));
    group.spawn(throw_after(4, "second failure"));
    group.spawn(finish_after(8, finished, 1));
    try
    {
        co_await group.wait();
    }
    catch (const std::runtime_error& e)
    {
        seen.message = e.what();
        seen.finished_before_rethrow = finished;
    }
}

awaitable<void> cancel_blocked_children(task_group& group, std::vector<boost::system::error_code>& results)
{
    for (int i = 0; i < 3; ++i)
    {
        group.spawn(wait_for_timer(results));
    }
    co_await yield_times(2);
    group.cancel();
    co_await group.wait();
}

awaitable<void> wait_in_group(
    task_group& group, std::vector<boost::system::error_code>& results, std::size_t& running_after_wait
)
{
    group.spawn(wait_for_timer(results));
    group.spawn(wait_for_timer(results));
    co_await group.wait();
    running_after_wait = group.running();
}

awaitable<void> cancel_the_waiter(
    asio::io_context& context,
    task_group& group,
    std::vector<boost::system::error_code>& results,
    std::size_t& running_after_wait,
    bool& waiter_finished
)
{
    asio::cancellation_signal signal;
    auto on_done = [&waiter_finished](std::exception_ptr) { waiter_finished = true; };
    asio::co_spawn(
        context,
        wait_in_group(group, results, running_after_wait),
        asio::bind_cancellation_slot(signal.slot(), on_done)
    );
    co_await yield_times(2);
    signal.emit(asio::cancellation_type::terminal);
    co_await yield_times(10);
}

}  // namespace

TEST_CASE("task group wait awaits all children", "[coro]")
{
    asio::io_context context;
    task_group group(context.get_executor());
    std::vector<int> finished;
    std::size_t running_after = 99;

    run_to_completion(context, wait_for_children(group, finished, running_after), time_limit);

    CHECK(finished == std::vector<int>{2, 1, 3});
    CHECK(running_after == 0);
}

TEST_CASE("task group rethrows first child exception", "[coro]")
{
    asio::io_context context;
    task_group group(context.get_executor());
    std::vector<int> finished;
    failure_observations seen;

    run_to_completion(context, collect_first_failure(group, finished, seen), time_limit);

    CHECK(seen.message == "first failure");
    CHECK(seen.finished_before_rethrow == std::vector<int>{1});
    CHECK(group.running() == 0);
}

TEST_CASE("task group cancel stops blocked children", "[coro]")
{
    asio::io_context context;
    task_group group(context.get_executor());
    std::vector<boost::system::error_code> results;

    run_to_completion(context, cancel_blocked_children(group, results), time_limit);

    REQUIRE(results.size() == 3);
    for (const auto& ec : results)
    {
        CHECK(ec == asio::error::operation_aborted);
    }
    CHECK(group.running() == 0);
}

TEST_CASE("cancelled task group wait cancels children", "[coro]")
{
    asio::io_context context;
    task_group group(context.get_executor());
    std::vector<boost::system::error_code> results;
    std::size_t running_after_wait = 99;
    bool waiter_finished = false;

    run_to_completion(
        context, cancel_the_waiter(context, group, results, running_after_wait, waiter_finished), time_limit
    );

    CHECK(waiter_finished);
    CHECK(running_after_wait == 0);
    REQUIRE(results.size() == 2);
    CHECK(results[0] == asio::error::operation_aborted);
    CHECK(results[1] == asio::error::operation_aborted);
    CHECK(group.running() == 0);
}

#ifndef BBSYNC_CORO_RUN_HPP
#define BBSYNC_CORO_RUN_HPP

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "coro/tokens.hpp"

namespace bbsync::coro {

// Runs `task` on `context` until it finishes and returns its value, rethrowing its
// exception. Other work on the context (a listening server, idle timers) stays queued and
// runs again with the next run_to_completion. With a timeout, throws std::runtime_error if
// the task has not finished by then. For command-line tools and tests; the daemon's main
// loop runs the context itself.
template <class T>
T run_to_completion(
    boost::asio::io_context& context,
    awaitable<T> task,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt
)
{
    // For T = void the value slot only records that the task returned.
    using slot = std::conditional_t<std::is_void_v<T>, bool, T>;
    std::exception_ptr error;
    std::optional<slot> value;
    bool finished = false;
    auto on_done = [&](std::exception_ptr e, auto... result) {
        finished = true;
        error = e;
        if (!e)
        {
            if constexpr (std::is_void_v<T>)
            {
                value.emplace(true);
            }
            else
            {
                value.emplace(std::move(result)...);
            }
        }
        context.stop();
    };
    boost::asio::co_spawn(context, std::move(task), on_done);

    if (timeout)
    {
        context.run_for(*timeout);
    }
    else
    {
        context.run();
    }
    context.restart();
    if (!finished)
    {
        throw std::runtime_error("the task did not finish within its time limit");
    }
    if (error)
    {
        std::rethrow_exception(error);
    }
    if constexpr (!std::is_void_v<T>)
    {
        return std::move(*value);
    }
}

}  // namespace bbsync::coro

#endif

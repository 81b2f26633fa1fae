#ifndef BBSYNC_CORO_TASK_GROUP_HPP
#define BBSYNC_CORO_TASK_GROUP_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>

#include <cstddef>
#include <exception>
#include <list>

#include "coro/tokens.hpp"

namespace bbsync::coro {

// Runs child coroutines and waits for all of them. The first exception a child throws is
// kept and rethrown by wait(); the other children keep running unless cancel() is called.
// Single-threaded: use it from the thread that runs its executor. The group must outlive
// its children, which wait() guarantees when it is awaited before destruction.
class task_group
{
public:
    explicit task_group(boost::asio::any_io_executor executor);
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    // Starts `task` (an awaitable<void>) as a child with its own cancellation slot.
    template <class Awaitable>
    void spawn(Awaitable task)
    {
        auto& signal = signals_.emplace_back();
        auto position = std::prev(signals_.end());
        ++running_;
        boost::asio::co_spawn(
            executor_,
            std::move(task),
            boost::asio::bind_cancellation_slot(
                signal.slot(), [this, position](std::exception_ptr error) { on_child_done(position, error); }
            )
        );
    }

    // Waits until every child has finished, then rethrows the first child exception, if any.
    // If the waiting coroutine is cancelled, the children are cancelled and still awaited.
    awaitable<void> wait();

    // Requests cancellation of every running child (terminal by default).
    void cancel(boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal);

    std::size_t running() const noexcept { return running_; }

private:
    void on_child_done(
        std::list<boost::asio::cancellation_signal>::iterator position, std::exception_ptr error
    );

    boost::asio::any_io_executor executor_;
    std::list<boost::asio::cancellation_signal> signals_;
    std::size_t running_ = 0;
    std::exception_ptr first_error_;
    steady_timer done_;
};

}  // namespace bbsync::coro

#endif

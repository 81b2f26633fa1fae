#include "coro/task_group.hpp"

#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;

namespace bbsync::coro {

task_group::task_group(asio::any_io_executor executor) : executor_(executor), done_(executor)
{
    done_.expires_at(std::chrono::steady_clock::time_point::max());
}

void task_group::on_child_done(
    std::list<asio::cancellation_signal>::iterator position, std::exception_ptr error
)
{
    signals_.erase(position);
    if (error && !first_error_)
    {
        first_error_ = error;
    }
    if (--running_ == 0)
    {
        done_.cancel();
    }
}

awaitable<void> task_group::wait()
{
    // The timer is a condition variable: on_child_done() cancels it when the last child ends.
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);
    while (running_ > 0)
    {
        co_await done_.async_wait();
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none && running_ > 0)
        {
            cancel();
        }
    }
    done_.expires_at(std::chrono::steady_clock::time_point::max());
    if (first_error_)
    {
        std::rethrow_exception(std::exchange(first_error_, nullptr));
    }
}

void task_group::cancel(asio::cancellation_type type)
{
    for (auto& signal : signals_)
    {
        signal.emit(type);
    }
}

}  // namespace bbsync::coro

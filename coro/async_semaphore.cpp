#include "coro/async_semaphore.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

namespace bbsync::coro {

semaphore_permit& semaphore_permit::operator=(semaphore_permit&& other) noexcept
{
    if (this != &other)
    {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
    }
    return *this;
}

void semaphore_permit::release() noexcept
{
    if (owner_ != nullptr)
    {
        std::exchange(owner_, nullptr)->release();
    }
}

async_semaphore::async_semaphore(boost::asio::any_io_executor executor, std::size_t permits)
    : executor_(std::move(executor)), available_(permits)
{}

awaitable<semaphore_permit> async_semaphore::acquire()
{
    if (try_acquire())
    {
        co_return semaphore_permit(*this);
    }

    // Park on a timer that never expires; release() hands over the permit by setting
    // `granted` and cancelling the timer, so the wake-up arrives as operation_aborted.
    auto entry = std::make_shared<waiter>(executor_);
    entry->timer.expires_at(std::chrono::steady_clock::time_point::max());
    waiters_.push_back(entry);
    co_await entry->timer.async_wait();

    if (entry->granted)
    {
        co_return semaphore_permit(*this);
    }

    // Cancelled while still queued: leave the queue without taking a permit.
    waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), entry), waiters_.end());
    throw boost::system::system_error(boost::asio::error::operation_aborted, "semaphore wait cancelled");
}

bool async_semaphore::try_acquire() noexcept
{
    if (available_ > 0 && waiters_.empty())
    {
        --available_;
        return true;
    }
    return false;
}

void async_semaphore::release() noexcept
{
    if (waiters_.empty())
    {
        ++available_;
        return;
    }
    auto next = std::move(waiters_.front());
    waiters_.pop_front();
    next->granted = true;
    next->timer.cancel();
}

}  // namespace bbsync::coro

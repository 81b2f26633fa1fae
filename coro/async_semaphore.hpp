#ifndef BBSYNC_CORO_ASYNC_SEMAPHORE_HPP
#define BBSYNC_CORO_ASYNC_SEMAPHORE_HPP

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <deque>
#include <memory>

#include "coro/tokens.hpp"

namespace bbsync::coro {

class async_semaphore;

// Ownership of one permit; returns it to the semaphore on destruction.
class semaphore_permit
{
public:
    semaphore_permit() = default;
    explicit semaphore_permit(async_semaphore& owner) noexcept : owner_(&owner) {}
    semaphore_permit(semaphore_permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    semaphore_permit& operator=(semaphore_permit&& other) noexcept;
    semaphore_permit(const semaphore_permit&) = delete;
    semaphore_permit& operator=(const semaphore_permit&) = delete;
    ~semaphore_permit() { release(); }

    // Returns the permit early. Does nothing if it was already returned.
    void release() noexcept;

private:
    async_semaphore* owner_ = nullptr;
};

// A counting semaphore for coroutines on one executor. Waiters are served in FIFO order, so
// a steady stream of new arrivals cannot starve an earlier one. Not thread-safe: use it from
// the thread that runs its executor.
class async_semaphore
{
public:
    async_semaphore(boost::asio::any_io_executor executor, std::size_t permits);
    async_semaphore(const async_semaphore&) = delete;
    async_semaphore& operator=(const async_semaphore&) = delete;

    // Waits for a permit and returns it. Throws boost::system::system_error with
    // operation_aborted if the awaiting coroutine is cancelled before a permit is granted.
    // A permit granted at the same moment as the cancellation is kept, not lost.
    awaitable<semaphore_permit> acquire();

    // Takes a permit without waiting if one is free and no coroutine waits. Returns whether it did.
    // The caller must call release() for a permit taken this way.
    bool try_acquire() noexcept;

    // Returns a permit taken with acquire() or try_acquire(), waking the oldest waiter.
    void release() noexcept;

    std::size_t available() const noexcept { return available_; }
    std::size_t waiting() const noexcept { return waiters_.size(); }

private:
    struct waiter
    {
        explicit waiter(boost::asio::any_io_executor executor) : timer(std::move(executor)) {}
        steady_timer timer;
        bool granted = false;
    };

    boost::asio::any_io_executor executor_;
    std::size_t available_;
    std::deque<std::shared_ptr<waiter>> waiters_;
};

}  // namespace bbsync::coro

#endif

#include "daemon/common/retry_policy.hpp"

#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <random>

namespace bbsync {

std::chrono::milliseconds backoff_delay(int attempt)
{
    static std::minstd_rand jitter_source{std::random_device{}()};
    const auto base = std::chrono::milliseconds(250) * (1 << attempt);
    std::uniform_int_distribution<long> jitter(0, base.count() / 2);
    return base + std::chrono::milliseconds(jitter(jitter_source));
}

std::optional<std::chrono::milliseconds> retry_delay(const failure& error, int attempt)
{
    if (!error.retryable || attempt + 1 >= max_request_attempts)
    {
        return std::nullopt;
    }
    auto delay = backoff_delay(attempt);
    if (error.retry_after)
    {
        if (*error.retry_after > max_retry_after_in_job)
        {
            return std::nullopt;
        }
        delay = std::max(delay, std::chrono::duration_cast<std::chrono::milliseconds>(*error.retry_after));
    }
    return delay;
}

coro::awaitable<void> sleep_for(std::chrono::milliseconds delay)
{
    coro::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(delay);
    co_await timer.async_wait();
}

}  // namespace bbsync

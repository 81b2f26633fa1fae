#ifndef BBSYNC_DAEMON_COMMON_RETRY_POLICY_HPP
#define BBSYNC_DAEMON_COMMON_RETRY_POLICY_HPP

#include <chrono>
#include <optional>

#include "coro/tokens.hpp"
#include "daemon/common/failure.hpp"

namespace bbsync {

// Attempts of one request inside a job, the first included.
inline constexpr int max_request_attempts = 3;

// A Retry-After longer than this is not waited for inside a job: the job ends and the patient
// becomes due again after that time.
inline constexpr auto max_retry_after_in_job = std::chrono::seconds(60);

// Returns the exponential backoff before retry `attempt` (0 for the first retry): 250 ms
// doubled per attempt, plus up to 50 % random jitter. Never throws.
std::chrono::milliseconds backoff_delay(int attempt);

// Returns how long to wait before sending a failed request again, or nullopt when it must not
// be retried: not retryable, out of attempts, or a Retry-After beyond what a job waits. A
// Retry-After shorter than the backoff is raised to it. Never throws.
std::optional<std::chrono::milliseconds> retry_delay(const failure& error, int attempt);

// Suspends the calling coroutine for `delay`; a cancellation ends the wait early.
coro::awaitable<void> sleep_for(std::chrono::milliseconds delay);

}  // namespace bbsync

#endif

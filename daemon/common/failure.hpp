#ifndef BBSYNC_DAEMON_COMMON_FAILURE_HPP
#define BBSYNC_DAEMON_COMMON_FAILURE_HPP

#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace bbsync {

// Why a step of a sync job did not succeed, in words that are safe for logs and job history:
// never a token, a remote error body or claim content.
struct failure
{
    failure() = default;
    failure(std::string error_class_, std::string message_, bool retryable_ = false)
        : error_class(std::move(error_class_)), message(std::move(message_)), retryable(retryable_)
    {}

    // Short dotted class stored as last_error_class, e.g. "payer.http_503",
    // "consent.renewal_required", "healthcloud.timeout".
    std::string error_class;

    // One sentence for operators, e.g. "EOB search returned HTTP 503 after 3 attempts".
    std::string message;

    // Whether the same request may succeed later without anyone changing anything.
    bool retryable = false;

    // The server's Retry-After, when it sent one with a 429 or 503.
    std::optional<std::chrono::seconds> retry_after;
};

// Called by boost::system::result<T, failure>::value() on an error.
[[noreturn]] inline void throw_exception_from_error(const failure& error, const boost::source_location&)
{
    throw std::runtime_error(error.error_class + ": " + error.message);
}

template <class T>
using outcome = boost::system::result<T, failure>;

}  // namespace bbsync

#endif

#ifndef BBSYNC_DAEMON_COMMON_RETRY_AFTER_HPP
#define BBSYNC_DAEMON_COMMON_RETRY_AFTER_HPP

#include <chrono>
#include <optional>
#include <string_view>

namespace bbsync {

// Parses an HTTP Retry-After value: delay-seconds ("120") or an IMF-fixdate ("Wed, 21 Oct
// 2015 07:28:00 GMT", RFC 9110 section 10.2.3). Returns the wait from `now`, zero for a date
// in the past, or nullopt for anything else.
std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now
);

}  // namespace bbsync

#endif

#ifndef BBSYNC_STORE_CLOCK_HPP
#define BBSYNC_STORE_CLOCK_HPP

#include <chrono>
#include <string>

namespace bbsync::store {

// Formats a time as the schema stores it: UTC, ISO 8601, milliseconds, "Z" suffix, e.g.
// "2026-12-04T16:00:00.123Z". Sub-millisecond digits are truncated toward the past. Such
// strings sort as text in time order for years 0000 to 9999. Throws std::bad_alloc only.
std::string to_iso(std::chrono::system_clock::time_point time);

// Returns to_iso() of the current system time. Throws std::bad_alloc only.
std::string utc_now_iso();

}  // namespace bbsync::store

#endif

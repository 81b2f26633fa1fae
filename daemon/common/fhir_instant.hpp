#ifndef BBSYNC_DAEMON_COMMON_FHIR_INSTANT_HPP
#define BBSYNC_DAEMON_COMMON_FHIR_INSTANT_HPP

#include <chrono>
#include <optional>
#include <string_view>

namespace bbsync {

using instant = std::chrono::sys_time<std::chrono::microseconds>;

// Parses a FHIR instant such as "2024-03-01T10:20:30.123+00:00" or "2024-03-01T10:20:30Z"
// (fraction optional, up to 9 digits, kept to microseconds). Returns nullopt for anything
// else, including a date without time or a missing offset.
std::optional<instant> parse_fhir_instant(std::string_view text);

}  // namespace bbsync

#endif

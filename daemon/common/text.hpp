#ifndef BBSYNC_DAEMON_COMMON_TEXT_HPP
#define BBSYNC_DAEMON_COMMON_TEXT_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace bbsync {

// Percent-encodes everything but RFC 3986 unreserved characters, so that '+', '&', '=' and
// ':' in a query value reach the server unchanged.
std::string percent_encode(std::string_view text);

// Encodes name/value pairs as application/x-www-form-urlencoded.
std::string form_encode(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

// Cuts valid UTF-8 text to at most max_chars code points, on a code point boundary, ending
// with `marker` when anything was cut (the marker counts toward max_chars).
std::string truncate_utf8(
    std::string_view text, std::size_t max_chars, std::string_view marker = " [truncated]"
);

}  // namespace bbsync

#endif

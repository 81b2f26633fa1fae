#ifndef BBSYNC_CORO_CONTENT_DECODING_HPP
#define BBSYNC_CORO_CONTENT_DECODING_HPP

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace bbsync::coro {

// Reasons a response body cannot be decoded.
enum class content_error
{
    unsupported_encoding = 1,  // a Content-Encoding other than identity or gzip
    corrupt_gzip,              // not gzip, a bad checksum, or cut short
};

const boost::system::error_category& content_category() noexcept;

boost::system::error_code make_error_code(content_error e) noexcept;

// Replaces `body` with its decoded form according to a Content-Encoding header value (empty or
// "identity": unchanged; "gzip" or "x-gzip": inflated). Never produces more than `limit` bytes:
// a body that would inflate past it yields http::error::body_limit, so a small compressed bomb
// costs at most `limit` bytes of memory. Returns content_error codes for other failures; `body`
// is then unspecified. Throws only std::bad_alloc.
boost::system::error_code decode_content(std::string_view encoding, std::string& body, std::size_t limit);

}  // namespace bbsync::coro

template <>
struct boost::system::is_error_code_enum<bbsync::coro::content_error> : std::true_type
{};

#endif

#ifndef BBSYNC_SANDBOX_GZIP_ENCODING_HPP
#define BBSYNC_SANDBOX_GZIP_ENCODING_HPP

#include <string>
#include <string_view>

#include "sandbox/route_response.hpp"

namespace bbsync::sandbox {

// Bodies shorter than this are sent uncompressed.
inline constexpr std::size_t gzip_min_body_bytes = 1024;

// Returns true when an Accept-Encoding value accepts gzip (a "gzip" or "*" coding whose q is
// not 0).
bool accepts_gzip(std::string_view accept_encoding);

// Compresses `data` into the gzip format (RFC 1952). Throws std::runtime_error when zlib
// fails, which only happens when memory runs out.
std::string gzip_compress(std::string_view data);

// Compresses the body of the response with gzip and sets Content-Encoding and Vary when the
// request accepts gzip and the body has at least gzip_min_body_bytes. Returns true when it
// compressed. Throws like gzip_compress.
bool apply_gzip_encoding(const http_request& request, http_response& response);

}  // namespace bbsync::sandbox

#endif

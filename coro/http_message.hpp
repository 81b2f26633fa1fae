#ifndef BBSYNC_CORO_HTTP_MESSAGE_HPP
#define BBSYNC_CORO_HTTP_MESSAGE_HPP

// Plain request and response values exchanged with https_client, so that callers do not
// need Beast's message templates.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bbsync::coro {

// Scheme-less origin of an HTTPS server: host name or IP literal, and port.
struct https_origin
{
    std::string host;
    std::uint16_t port = 443;

    // "host" for port 443, else "host:port"; IPv6 literals are bracketed.
    std::string authority() const;
    bool operator==(const https_origin&) const = default;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request
{
    std::string method = "GET";  // GET, POST, PATCH, PUT or DELETE
    std::string target;          // origin-form: path and query
    header_list headers;         // besides Host, User-Agent and Content-Length, which are set
    std::string body;
};

struct http_response
{
    unsigned status = 0;
    header_list headers;
    std::string body;

    // Value of the first header with this name (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const;
};

// Limits and behaviour of one request.
struct request_options
{
    // Upper bound on the response body after decoding.
    std::size_t body_limit = 8 * 1024 * 1024;
    std::size_t header_limit = 16 * 1024;

    // Whole-request deadline, connection set-up included.
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(60);

    // True when sending the request twice has the effect of sending it once. Only such
    // requests are replayed on a fresh connection when a pooled one turns out to be stale.
    bool idempotent = true;

    // Use a new connection rather than a pooled one, for requests that must not be replayed
    // and must not meet a connection the server has already closed.
    bool fresh_connection = false;

    // Send "Accept-Encoding: gzip" unless the request sets Accept-Encoding itself. Responses are
    // decoded either way; body_limit then bounds the decoded size too.
    bool accept_gzip = false;
};

}  // namespace bbsync::coro

#endif

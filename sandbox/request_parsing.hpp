#ifndef BBSYNC_SANDBOX_REQUEST_PARSING_HPP
#define BBSYNC_SANDBOX_REQUEST_PARSING_HPP

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sandbox/route_response.hpp"

namespace bbsync::sandbox {

// A decoded query or form parameter ("+" decoded as a space in forms only).
struct query_param
{
    std::string key;
    std::string value;
};

// The parts of a request target: decoded path, raw query (without "?") and decoded params.
struct request_target
{
    std::string path;
    std::string encoded_query;
    std::vector<query_param> params;
};

// Splits an origin-form target. Returns nullopt when the target or its query is malformed.
// Throws only std::bad_alloc.
std::optional<request_target> parse_target(std::string_view target);

// Decodes an application/x-www-form-urlencoded body. Returns nullopt when it is malformed.
// Throws only std::bad_alloc.
std::optional<std::vector<query_param>> parse_form(std::string_view body);

// Returns the value of the first parameter named `key`, or nullopt.
std::optional<std::string> find_param(const std::vector<query_param>& params, std::string_view key);

// Returns the token of an "Authorization: Bearer <token>" header, or nullopt.
std::optional<std::string> bearer_token(const http_request& request);

// Returns the (client id, client secret) of an "Authorization: Basic" header, or nullopt
// when the header is absent or malformed. Throws only std::bad_alloc.
std::optional<std::pair<std::string, std::string>> basic_credentials(const http_request& request);

// Returns the decimal integer that is all of `text`, or nullopt (empty, sign only, junk, out of
// range).
std::optional<int> parse_int(std::string_view text);

// Returns the ifNoneExist values of a batch bundle's text, found by a scan instead of a parse,
// escapes left as sent. Text that is not JSON gives what it happens to contain.
std::vector<std::string> if_none_exist_values(std::string_view body);

// Returns the media type of the Content-Type header, lower-cased and without parameters.
std::string media_type(const http_request& request);

}  // namespace bbsync::sandbox

#endif

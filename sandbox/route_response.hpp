#ifndef BBSYNC_SANDBOX_ROUTE_RESPONSE_HPP
#define BBSYNC_SANDBOX_ROUTE_RESPONSE_HPP

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace bbsync::sandbox {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// A handled request: the response, the route it counts under (path without query, ids
// folded) and, for a client mistake, the reason it was rejected.
struct route_response
{
    http_response response;
    std::string route;
    std::string rejection;
};

// Builds a response with a JSON body and the given media type. Throws only std::bad_alloc.
http_response make_json_response(
    unsigned status, const boost::json::value& body, std::string_view content_type = "application/json"
);

// Builds a response whose body is already serialized. Throws only std::bad_alloc.
http_response make_text_response(unsigned status, std::string body, std::string_view content_type);

}  // namespace bbsync::sandbox

#endif

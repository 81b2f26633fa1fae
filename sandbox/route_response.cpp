#include "sandbox/route_response.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

namespace bbsync::sandbox {

http_response make_json_response(
    unsigned status, const boost::json::value& body, std::string_view content_type
)
{
    return make_text_response(status, boost::json::serialize(body), content_type);
}

http_response make_text_response(unsigned status, std::string body, std::string_view content_type)
{
    http_response response;
    response.result(status);
    response.set(boost::beast::http::field::content_type, content_type);
    response.set(boost::beast::http::field::server, "bbsync-sandbox");
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
}

}  // namespace bbsync::sandbox

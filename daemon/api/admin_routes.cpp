#include "daemon/api/admin_routes.hpp"

#include "daemon/service/log.hpp"

namespace http = boost::beast::http;

namespace bbsync::api {
namespace {

http_response text_response(
    http::status status, std::string body, const char* content_type = "text/plain; charset=utf-8"
)
{
    http_response response{status, 11};
    response.set(http::field::content_type, content_type);
    response.set(http::field::cache_control, "no-store");
    response.body() = std::move(body);
    return response;
}

}  // namespace

http_response handle_admin_request(const http_request& request, const admin_status& status)
{
    const auto target = std::string_view(request.target());
    const auto path = target.substr(0, target.find('?'));
    if (path != "/healthz" && path != "/readyz" && path != "/metrics")
    {
        return text_response(http::status::not_found, "not found: use /healthz, /readyz or /metrics\n");
    }
    if (request.method() != http::verb::get)
    {
        auto response = text_response(http::status::method_not_allowed, "method not allowed: use GET\n");
        response.set(http::field::allow, "GET");
        return response;
    }

    if (path == "/healthz")
    {
        // Any response proves that the event loop runs.
        return text_response(http::status::ok, "ok\n");
    }
    if (path == "/readyz")
    {
        if (status.stopping())
        {
            return text_response(http::status::service_unavailable, "stopping\n");
        }
        if (!status.ready())
        {
            return text_response(http::status::service_unavailable, "starting\n");
        }
        return text_response(http::status::ok, "ready\n");
    }
    try
    {
        return text_response(
            http::status::ok, status.metrics_text(), "text/plain; version=0.0.4; charset=utf-8"
        );
    }
    catch (const std::exception& e)
    {
        log::error("admin", std::string("cannot build /metrics: ") + e.what());
        return text_response(
            http::status::internal_server_error, "metrics are unavailable; see the service log\n"
        );
    }
}

}  // namespace bbsync::api

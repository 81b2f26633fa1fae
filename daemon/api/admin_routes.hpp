#ifndef BBSYNC_DAEMON_API_ADMIN_ROUTES_HPP
#define BBSYNC_DAEMON_API_ADMIN_ROUTES_HPP

#include <functional>
#include <string>

#include "daemon/api/http_listener.hpp"

namespace bbsync::api {

// Callbacks that the admin endpoint reads when a request arrives.
struct admin_status
{
    // True once the database is open and every listener is bound.
    std::function<bool()> ready;
    // True once shutdown has started.
    std::function<bool()> stopping;
    // The /metrics body in Prometheus text format 0.0.4. May throw; the request then gets 500.
    std::function<std::string()> metrics_text;
};

// Handles GET /healthz (200 "ok"), GET /readyz (200 when ready and not stopping, else 503)
// and GET /metrics. Other paths get 404, other methods 405 with an Allow header. A failure
// to build the metrics is logged and gets 500 without its text. Never throws except
// std::bad_alloc.
http_response handle_admin_request(const http_request& request, const admin_status& status);

}  // namespace bbsync::api

#endif

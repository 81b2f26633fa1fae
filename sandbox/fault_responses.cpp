#include "sandbox/fault_responses.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <ctime>

namespace bbsync::sandbox {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::size_t big_page_bytes = 9 * 1024 * 1024 + 1;

// Blue Button (Django REST framework) error bodies; 500 and 503 come from the web server
// in front of the application, as HTML.
http_response payer_status_response(unsigned status, std::int64_t retry_seconds)
{
    switch (status)
    {
    case 429:
        return make_json_response(
            429,
            json::object{
                {"detail",
                 "Request was throttled. Expected available in " + std::to_string(retry_seconds) +
                     " seconds."}}
        );
    case 502:
        return make_json_response(
            502, json::object{{"detail", "A failure occurred contacting the upstream server"}}
        );
    case 503:
        return make_text_response(
            503, "<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html"
        );
    default: return make_text_response(500, "<h1>Server Error (500)</h1>", "text/html");
    }
}

http_response salesforce_status_response(unsigned status)
{
    const auto error = [](std::string_view message, std::string_view code) {
        return json::array{json::object{{"message", message}, {"errorCode", code}}};
    };
    switch (status)
    {
    case 429:
        return make_json_response(
            429, error("Too many requests, retry after the time in Retry-After", "REQUEST_LIMIT_EXCEEDED")
        );
    case 500:
        return make_json_response(
            500,
            error(
                "An unexpected error occurred. Please include this ErrorId if you contact support: "
                "1234567890-12345 (-1234567890)",
                "UNKNOWN_EXCEPTION"
            )
        );
    default: return make_json_response(status, error("Server temporarily unavailable", "SERVER_UNAVAILABLE"));
    }
}

http_response healthcloud_status_response(unsigned status)
{
    std::string_view code = "transient";
    std::string_view text = "service temporarily unavailable";
    if (status == 429)
    {
        code = "throttled";
        text = "too many requests";
    }
    else if (status == 500)
    {
        code = "exception";
        text = "internal server error";
    }
    return make_json_response(
        status,
        json::object{
            {"resourceType", "OperationOutcome"},
            {"issue",
             json::array{json::object{{"severity", "error"}, {"code", code}, {"diagnostics", text}}}},
        },
        "application/fhir+json"
    );
}

// Data Cloud errors use the Salesforce REST error list.
http_response datacloud_status_response(unsigned status)
{
    const auto error = [](std::string_view message, std::string_view code) {
        return json::array{json::object{{"message", message}, {"errorCode", code}}};
    };
    switch (status)
    {
    case 429:
        return make_json_response(
            429, error("Too many requests, retry after the time in Retry-After", "TOO_MANY_REQUESTS")
        );
    case 500: return make_json_response(500, error("An unexpected error occurred", "UNKNOWN_EXCEPTION"));
    default:
        return make_json_response(status, error("Service temporarily unavailable", "SERVICE_UNAVAILABLE"));
    }
}

// Returns the "link" entry with this relation, or nullptr.
json::object* find_link(json::array& links, std::string_view relation)
{
    for (auto& link : links)
    {
        if (!link.is_object())
            continue;
        const auto* value = link.get_object().if_contains("relation");
        if (value != nullptr && value->is_string() && value->get_string() == relation)
            return &link.get_object();
    }
    return nullptr;
}

// Returns the part of an absolute URL from the path on ("/v2/fhir/...?...").
std::string path_and_query(std::string_view url)
{
    const auto scheme_end = url.find("://");
    const auto path_start = url.find('/', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
    return path_start == std::string_view::npos ? "/" : std::string(url.substr(path_start));
}

bool rewrite_bundle(json::object& bundle, const fault_plan& plan, std::uint16_t payer_port)
{
    bool changed = false;
    auto& links_value = bundle["link"];
    if (!links_value.is_array())
        links_value = json::array{};
    auto& links = links_value.get_array();
    const auto* self = find_link(links, "self");
    const std::string self_url = self != nullptr && self->at("url").is_string()
                                     ? std::string(self->at("url").get_string())
                                     : std::string();

    // A next link to the same page, or to another origin, added when the page is the last.
    const auto* loop = plan.find(fault_action::next_loop);
    const auto* foreign = plan.find(fault_action::next_foreign);
    if ((loop != nullptr || foreign != nullptr) && !self_url.empty())
    {
        auto* next = find_link(links, "next");
        if (next == nullptr)
        {
            links.push_back(json::object{{"relation", "next"}, {"url", self_url}});
            next = &links.back().get_object();
        }
        std::string url = loop != nullptr ? self_url : std::string(next->at("url").as_string());
        if (foreign != nullptr)
        {
            const auto origin = foreign->foreign_plain_http ? "http://127.0.0.1:" : "https://other.example:";
            url = origin + std::to_string(payer_port) + path_and_query(url);
        }
        (*next)["url"] = url;
        changed = true;
    }

    // Repeat the page's entries until the serialized Bundle passes 9 MB.
    if (plan.find(fault_action::big_page) != nullptr)
    {
        auto* entries = bundle.if_contains("entry");
        if (entries != nullptr && entries->is_array() && !entries->get_array().empty())
        {
            const json::array original = entries->get_array();
            const std::size_t page_bytes = json::serialize(original).size();
            const std::size_t copies = big_page_bytes / page_bytes + 1;
            auto& grown = entries->get_array();
            grown.reserve(original.size() * copies);
            for (std::size_t i = 1; i < copies; ++i)
            {
                for (const auto& entry : original)
                    grown.push_back(entry);
            }
            changed = true;
        }
    }
    return changed;
}

}  // namespace

http_response make_fault_status_response(host_kind host, const fault_spec& spec, std::int64_t now_ms)
{
    http_response response;
    switch (host)
    {
    case host_kind::payer: response = payer_status_response(spec.status, spec.retry_after_seconds); break;
    case host_kind::salesforce: response = salesforce_status_response(spec.status); break;
    case host_kind::healthcloud: response = healthcloud_status_response(spec.status); break;
    case host_kind::datacloud: response = datacloud_status_response(spec.status); break;
    }
    if (spec.retry_after == retry_after_form::seconds)
        response.set(http::field::retry_after, std::to_string(spec.retry_after_seconds));
    else if (spec.retry_after == retry_after_form::http_date)
        response.set(http::field::retry_after, format_http_date(now_ms / 1000 + spec.retry_after_seconds));
    if (host == host_kind::payer && spec.status == 429)
    {
        response.set("X-RateLimit-Limit", "1");
        response.set("X-RateLimit-Remaining", "0");
        response.set("X-RateLimit-Reset", std::to_string(spec.retry_after_seconds) + ".0");
    }
    return response;
}

http_response make_invalid_session_response()
{
    return make_json_response(
        401,
        json::array{
            json::object{{"message", "Session expired or invalid"}, {"errorCode", "INVALID_SESSION_ID"}}}
    );
}

bool apply_body_faults(http_response& response, const fault_plan& plan, std::uint16_t payer_port)
{
    bool changed = false;
    const bool page_fault = plan.find(fault_action::next_loop) != nullptr ||
                            plan.find(fault_action::next_foreign) != nullptr ||
                            plan.find(fault_action::big_page) != nullptr;
    if (page_fault && response.result_int() == 200)
    {
        boost::system::error_code ec;
        auto body = json::parse(response.body(), ec);
        const auto* type = !ec && body.is_object() ? body.get_object().if_contains("resourceType") : nullptr;
        if (type != nullptr && type->is_string() && type->get_string() == "Bundle" &&
            rewrite_bundle(body.get_object(), plan, payer_port))
        {
            response.body() = json::serialize(body);
            changed = true;
        }
    }
    if (plan.find(fault_action::malformed_json) != nullptr)
    {
        // Cut the JSON text in the middle of an object, so no JSON parser accepts it.
        response.result(200);
        std::string& body = response.body();
        body = body.substr(0, body.size() / 2);
        body += "{\"resourceType\":";
        changed = true;
    }
    if (changed)
        response.prepare_payload();
    return changed;
}

std::string format_http_date(std::int64_t epoch_seconds)
{
    const auto time = static_cast<std::time_t>(epoch_seconds);
    std::tm parts{};
    ::gmtime_r(&time, &parts);
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char text[40];
    std::snprintf(
        text,
        sizeof text,
        "%s, %02d %s %04d %02d:%02d:%02d GMT",
        days[parts.tm_wday],
        parts.tm_mday,
        months[parts.tm_mon],
        parts.tm_year + 1900,
        parts.tm_hour,
        parts.tm_min,
        parts.tm_sec
    );
    return text;
}

}  // namespace bbsync::sandbox

#include "daemon/payer/payer_client.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <cmath>

#include "coro/content_decoding.hpp"
#include "daemon/common/retry_after.hpp"
#include "daemon/common/text.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "daemon/mapping/fhir_json_error.hpp"

namespace json = boost::json;

namespace bbsync {
namespace {

// Reads a string member of a JSON object, or "" when it is absent or not a string.
std::string string_member(const json::value& value, std::string_view name)
{
    if (const auto* object = value.if_object())
    {
        if (const auto* member = object->if_contains(name); member && member->is_string())
        {
            return std::string(member->get_string());
        }
    }
    return {};
}

failure transport_failure(const char* prefix, const boost::system::error_code& ec)
{
    const bool timed_out = ec == boost::beast::error::timeout;
    const bool too_large =
        ec == boost::beast::http::error::body_limit || ec == boost::beast::http::error::header_limit;
    const bool bad_encoding = ec.category() == coro::content_category();
    failure error;
    error.error_class = std::string(prefix) + (timed_out      ? ".timeout"
                                               : too_large    ? ".too_large"
                                               : bad_encoding ? ".bad_encoding"
                                                              : ".transport");
    error.message =
        ec.category().name() + std::string(" error ") + std::to_string(ec.value()) + ": " + ec.message();
    error.retryable = !too_large && !bad_encoding;
    return error;
}

}  // namespace

std::string eob_search_target(
    const config& settings,
    const std::string& payer_patient_id,
    const std::optional<std::string>& watermark,
    std::optional<int> start_index
)
{
    std::string target =
        settings.payer_fhir_path + "/ExplanationOfBenefit?patient=" + percent_encode(payer_patient_id);
    target += "&_count=" + std::to_string(settings.eob_count);
    if (start_index)
    {
        target += "&startIndex=" + std::to_string(*start_index);
    }
    if (watermark)
    {
        target += "&_lastUpdated=" + percent_encode("gt" + *watermark);
    }
    if (settings.eob_type_filter)
    {
        target += "&type=" + percent_encode("carrier,dme,hha,hospice,inpatient,outpatient,pde,snf");
    }
    return target;
}

outcome<std::string> next_link_target(const config& settings, const std::string& url)
{
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed)
    {
        return failure{"payer.foreign_next_link", "the next link is not an absolute URL", false};
    }
    if (parsed->scheme() != "https")
    {
        return failure{
            "payer.foreign_next_link",
            "the next link uses scheme " + std::string(parsed->scheme()) + " instead of https",
            false};
    }
    const std::uint16_t port = parsed->has_port() ? parsed->port_number() : 443;
    if (parsed->host() != settings.payer.host || port != settings.payer.port)
    {
        return failure{
            "payer.foreign_next_link",
            "the next link points to " + std::string(parsed->host()) + ":" + std::to_string(port) +
                " instead of the configured payer " + settings.payer.host + ":" +
                std::to_string(settings.payer.port),
            false};
    }
    std::string target(parsed->encoded_path());
    if (target.empty())
    {
        target = "/";
    }
    if (parsed->has_query())
    {
        target += "?" + std::string(parsed->encoded_query());
    }
    return target;
}

payer_client::payer_client(coro::https_client& http, const config& settings)
    : http_(http), settings_(settings), origin_{settings.payer.host, settings.payer.port}
{}

coro::awaitable<outcome<payer_tokens>> payer_client::refresh(const std::string& refresh_token)
{
    coro::http_request request;
    request.method = "POST";
    request.target = settings_.payer_token_path;
    request.headers = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"},
    };
    request.body = form_encode({
        {"grant_type", "refresh_token"},
        {"refresh_token", refresh_token},
        {"client_id", settings_.payer_client_id},
        {"client_secret", settings_.payer_client_secret},
    });
    coro::request_options options;
    options.body_limit = 64 * 1024;
    options.timeout = settings_.request_timeout;
    options.idempotent = false;
    options.fresh_connection = true;

    auto response = co_await http_.send(origin_, request, options);
    if (!response)
    {
        co_return transport_failure("payer.token", response.error());
    }

    boost::system::error_code ec;
    auto body = json::parse(response->body, ec);
    const auto error_code = ec ? std::string() : string_member(body, "error");
    const auto description = ec ? std::string() : string_member(body, "error_description");

    // Rejections that only a new consent can fix, per the Blue Button token endpoint.
    if (error_code == "invalid_grant" || error_code == "invalid_request" ||
        (error_code == "invalid_client" && description.find("not allowed to refresh") != std::string::npos))
    {
        co_return failure{
            payer_errors::renewal_required,
            "the payer rejected the refresh token (HTTP " + std::to_string(response->status) + " " +
                error_code + ")",
            false};
    }
    if (error_code == "invalid_client")
    {
        co_return failure{
            payer_errors::client_rejected,
            "the payer rejected the client credentials (HTTP " + std::to_string(response->status) +
                "): check bluebuttonapi.clientId and bluebuttonapi.clientSecret",
            false};
    }
    if (response->status != 200)
    {
        co_return failure{
            "payer.token_http_" + std::to_string(response->status),
            "the token endpoint returned HTTP " + std::to_string(response->status) +
                "; the refresh token may already be rotated",
            response->status >= 500 || response->status == 429};
    }

    payer_tokens tokens;
    tokens.access_token = string_member(body, "access_token");
    tokens.refresh_token = string_member(body, "refresh_token");
    const auto* expires = body.is_object() ? body.get_object().if_contains("expires_in") : nullptr;
    double seconds = 0;
    if (expires != nullptr && expires->is_number())
    {
        seconds = expires->to_number<double>();
    }
    else if (expires != nullptr && expires->is_string())
    {
        seconds = std::atof(expires->get_string().c_str());
    }
    if (tokens.access_token.empty() || tokens.refresh_token.empty() || !(seconds > 0) ||
        !std::isfinite(seconds))
    {
        co_return failure{
            "payer.token_bad_response",
            "the token response lacks access_token, refresh_token or a positive expires_in",
            false};
    }
    tokens.expires_in = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
    co_return tokens;
}

coro::awaitable<outcome<json::value>> payer_client::get(
    const std::string& target, const std::string& access_token
)
{
    coro::http_request request;
    request.target = target;
    request.headers = {
        {"Authorization", "Bearer " + access_token},
        {"Accept", "application/fhir+json"},
    };
    coro::request_options options;
    options.timeout = settings_.request_timeout;
    // EOB pages are repetitive JSON: gzip cuts them to about a tenth on the wire.
    options.accept_gzip = true;

    auto response = co_await http_.send(origin_, request, options);
    if (!response)
    {
        co_return transport_failure("payer", response.error());
    }
    if (response->status == 401)
    {
        co_return failure{
            payer_errors::unauthorized, "the payer rejected the access token (HTTP 401)", false};
    }
    if (response->status != 200)
    {
        failure error{
            "payer.http_" + std::to_string(response->status),
            "the payer returned HTTP " + std::to_string(response->status),
            response->status == 429 || response->status >= 500};
        if (auto header = response->header("Retry-After"))
        {
            error.retry_after = parse_retry_after(*header, std::chrono::system_clock::now());
        }
        co_return error;
    }
    // Numbers keep their text (10.10 stays 10.10), and nesting depth and size are bounded. The
    // tree goes into one arena that lives as long as the returned value: a page of 50 EOBs is
    // some 100,000 small nodes, and freeing them one by one cost more CPU than parsing them.
    // Callers that keep a part of the tree longer copy it into the default resource.
    auto arena = json::make_shared_resource<json::monotonic_resource>(response->body.size() * 2 + 1024);
    auto body = mapping::parse_fhir_json(response->body, {}, std::move(arena));
    if (!body)
    {
        co_return failure{
            "payer.bad_json",
            "the payer sent a body that is not valid JSON: " +
                mapping::describe_parse_error(body.error(), {}),
            true};
    }
    co_return std::move(*body);
}

}  // namespace bbsync

#include "sandbox/datacloud_routes.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <string>
#include <string_view>

#include "sandbox/request_parsing.hpp"

namespace bbsync::sandbox {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view ingest_prefix = "/api/v1/ingest/sources/";
constexpr std::string_view ingest_route = "/api/v1/ingest/sources/{source}/{object}";
constexpr std::string_view source_name = "BlueButtonClaim";
constexpr std::string_view a360_route = "/services/a360/token";
constexpr std::string_view cdp_grant_type = "urn:salesforce:grant-type:external:cdp";
constexpr std::string_view access_token_type = "urn:ietf:params:oauth:token-type:access_token";
constexpr std::string_view jwt_token_type = "urn:ietf:params:oauth:token-type:jwt";

// Builds a Data Cloud error response with the Salesforce REST error list [{"message", "errorCode"}].
route_response error_response(
    unsigned status, std::string_view code, const std::string& message, std::string rejection
)
{
    return {
        make_json_response(status, json::array{json::object{{"message", message}, {"errorCode", code}}}),
        std::string(ingest_route),
        std::move(rejection)};
}

// Rejects a request whose body or records do not fit the schema.
route_response reject_records(const std::string& message, const std::string& reason)
{
    return error_response(400, "INVALID_RECORD", message, reason);
}

}  // namespace

route_response handle_datacloud_request(
    sandbox_state& state, const http_request& request, std::int64_t now_ms
)
{
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (!path.starts_with(ingest_prefix))
    {
        auto response =
            error_response(404, "NOT_FOUND", "The requested resource does not exist", "no such route");
        response.route = std::string(path.substr(0, 100));
        return response;
    }

    // The token is checked first, so a bad token gets 401 whatever the path under the prefix.
    const auto token = bearer_token(request);
    if (token && (state.org.is_valid_token(*token) || state.payer_tokens.was_issued(*token)))
        state.seen.count_foreign_authorization(host_kind::datacloud);
    if (!token || !state.cdp.is_live_token(*token, now_ms))
    {
        auto response = error_response(
            401,
            "INVALID_AUTH",
            "The Data Cloud access token is missing, invalid or expired: exchange a Salesforce token at "
            "/services/a360/token",
            !token ? "missing bearer token" : "invalid or expired tenant token"
        );
        response.response.set(http::field::www_authenticate, "Bearer");
        return response;
    }

    // Source and object.
    const std::string_view rest = path.substr(ingest_prefix.size());
    const auto slash = rest.find('/');
    const std::string_view source = rest.substr(0, slash);
    const std::string_view object =
        slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (source != source_name)
        return error_response(
            404,
            "NOT_FOUND",
            "Unknown source '" + std::string(source.substr(0, 80)) + "': the only source is BlueButtonClaim",
            "unknown source"
        );
    if (!state.cdp.schema().has_object(object))
        return error_response(
            404,
            "NOT_FOUND",
            "Unknown object '" + std::string(object.substr(0, 80)) + "' in source BlueButtonClaim",
            "unknown object"
        );
    if (request.method() != http::verb::post)
    {
        auto response = error_response(
            405,
            "METHOD_NOT_ALLOWED",
            "HTTP method " + std::string(request.method_string()) + " is not allowed: use POST",
            "method not allowed"
        );
        response.response.set(http::field::allow, "POST");
        return response;
    }

    // Body: at most 200 KB of {"data": [records]}.
    if (request.body().size() > max_datacloud_body_bytes)
    {
        return error_response(
            413,
            "PAYLOAD_TOO_LARGE",
            "The request body has " + std::to_string(request.body().size()) +
                " bytes; the limit is 204800 bytes (200 KB): send fewer records per request",
            "body over 204800 bytes"
        );
    }
    if (const auto type = media_type(request); type != "application/json")
    {
        return error_response(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Content-Type '" + type.substr(0, 60) + "' is not supported: send application/json",
            "body is not application/json"
        );
    }
    boost::system::error_code ec;
    const auto body = json::parse(request.body(), ec);
    const auto* data = !ec && body.is_object() ? body.get_object().if_contains("data") : nullptr;
    if (data == nullptr || !data->is_array() || body.get_object().size() != 1)
        return reject_records(
            "The request body must be a JSON object {\"data\": [records]}", "body is not {\"data\": [...]}"
        );
    const auto& records = data->get_array();
    if (records.empty())
        return reject_records("The data array is empty: send at least one record", "empty data array");

    // Every record must fit, or none is stored.
    for (std::size_t i = 0; i < records.size(); ++i)
    {
        if (auto reason = state.cdp.schema().check_record(object, records[i]))
            return reject_records(
                "Record " + std::to_string(i) + " of " + std::string(object) + ": " + *reason, *reason
            );
    }
    state.cdp.store(object, records);
    return {make_json_response(202, json::object{{"accepted", true}}), std::string(ingest_route), {}};
}

route_response handle_a360_token(sandbox_state& state, const http_request& request, std::int64_t now_ms)
{
    const auto oauth_error = [&](unsigned status,
                                 std::string_view error,
                                 std::string_view description,
                                 std::string rejection) {
        return route_response{
            make_json_response(status, json::object{{"error", error}, {"error_description", description}}),
            std::string(a360_route),
            std::move(rejection)};
    };
    if (request.method() != http::verb::post)
        return oauth_error(400, "invalid_request", "must use HTTP POST", "token exchange is not a POST");
    if (media_type(request) != "application/x-www-form-urlencoded")
        return oauth_error(
            400, "invalid_request", "unsupported content type", "token exchange body is not form-urlencoded"
        );
    const auto form = parse_form(request.body());
    if (!form)
        return oauth_error(400, "invalid_request", "malformed form body", "token exchange body is malformed");
    if (find_param(*form, "grant_type") != cdp_grant_type)
        return oauth_error(
            400, "unsupported_grant_type", "grant type not supported", "token exchange grant_type is not cdp"
        );
    if (find_param(*form, "subject_token_type") != access_token_type)
        return oauth_error(
            400,
            "invalid_request",
            "subject_token_type must be urn:ietf:params:oauth:token-type:access_token",
            "unsupported subject_token_type"
        );
    const auto subject = find_param(*form, "subject_token");
    if (!subject || subject->empty())
        return oauth_error(400, "invalid_request", "missing subject_token", "missing subject_token");
    if (!state.org.is_live_token(*subject, now_ms))
    {
        if (state.payer_tokens.was_issued(*subject))
            state.seen.count_foreign_authorization(host_kind::salesforce);
        return oauth_error(
            400, "invalid_grant", "invalid subject token", "subject token is not a live Salesforce token"
        );
    }

    // Real tenants return the tenant endpoint without a scheme.
    json::object body{
        {"access_token", state.cdp.issue_token(now_ms)},
        {"instance_url", "127.0.0.1:" + std::to_string(state.port(host_kind::datacloud))},
        {"token_type", "Bearer"},
        {"issued_token_type", jwt_token_type},
        {"expires_in", state.cdp.token_lifetime_seconds()},
    };
    auto response = make_json_response(200, body);
    response.set(http::field::cache_control, "no-store");
    return {std::move(response), std::string(a360_route), {}};
}

}  // namespace bbsync::sandbox

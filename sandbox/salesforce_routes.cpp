#include "sandbox/salesforce_routes.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <array>
#include <regex>
#include <string>
#include <string_view>

#include "sandbox/fhir_time.hpp"
#include "sandbox/request_parsing.hpp"

namespace bbsync::sandbox {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view job_path_prefix = "/sobjects/PatientSyncJob__c/JobId__c/";
constexpr std::string_view job_route = "/services/data/{v}/sobjects/PatientSyncJob__c/JobId__c/{id}";
constexpr std::size_t long_text_limit = 32768;
constexpr std::array<std::string_view, 5> job_statuses{
    "New", "InProgress", "Completed", "Failed", "PartiallyCompleted"};

json::array api_error(
    std::string_view message, std::string_view code, std::initializer_list<std::string_view> fields = {}
)
{
    json::object error{{"message", message}, {"errorCode", code}};
    if (fields.size() > 0)
    {
        json::array list;
        for (const auto field : fields)
            list.push_back(json::string(field));
        error["fields"] = std::move(list);
    }
    return json::array{std::move(error)};
}

route_response rest_response(
    sandbox_state& state, unsigned status, const json::value& body, std::string rejection
)
{
    auto response = make_json_response(status, body);
    response.set("Sforce-Limit-Info", "api-usage=" + std::to_string(state.org.api_usage()) + "/100000");
    return {std::move(response), std::string(job_route), std::move(rejection)};
}

route_response handle_token(sandbox_state& state, const http_request& request, std::int64_t now_ms)
{
    const std::string route = "/services/oauth2/token";
    const auto bad_request = [&](std::string_view error, std::string_view description, std::string rejection
                             ) {
        return route_response{
            make_json_response(400, json::object{{"error", error}, {"error_description", description}}),
            route,
            std::move(rejection)};
    };
    if (request.method() != http::verb::post)
        return bad_request("invalid_request", "must use HTTP POST", "token request is not a POST");
    if (media_type(request) != "application/x-www-form-urlencoded")
        return bad_request(
            "invalid_request", "unsupported content type", "token request body is not form-urlencoded"
        );
    const auto form = parse_form(request.body());
    if (!form)
        return bad_request("invalid_request", "malformed form body", "token request body is malformed");
    if (find_param(*form, "grant_type") != "client_credentials")
        return bad_request("unsupported_grant_type", "grant type not supported", "unsupported grant_type");
    if (find_param(*form, "client_id") != sf_client_id ||
        find_param(*form, "client_secret") != sf_client_secret)
        return bad_request(
            "invalid_client", "invalid client credentials", "invalid Salesforce client credentials"
        );

    const auto token = state.org.issue_token();
    const std::string instance = "https://127.0.0.1:" + std::to_string(state.port(host_kind::salesforce));
    json::object body{
        {"access_token", token},
        {"instance_url", instance},
        {"id", instance + "/id/00DSB0000000001AAA/005SB0000000001AAA"},
        {"token_type", "Bearer"},
        {"issued_at", std::to_string(now_ms)},
        {"signature", "c2FuZGJveC1zaWduYXR1cmUtbm90LXZlcmlmaWFibGU="},
        {"scope", "api"},
    };
    return {make_json_response(200, body), route, {}};
}

std::size_t count_code_points(std::string_view text)
{
    std::size_t count = 0;
    for (const char c : text)
    {
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U)
            ++count;
    }
    return count;
}

bool is_salesforce_datetime(std::string_view text)
{
    // Salesforce accepts yyyy-MM-ddTHH:mm:ss with optional fraction and Z or an offset
    // written with or without a colon.
    static const std::regex pattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2}))");
    if (!std::regex_match(text.begin(), text.end(), pattern))
        return false;
    return parse_date(text.substr(0, 10)).has_value();
}

// Validates the body of an upsert. Returns the error body and rejection reason, or nullopt.
std::optional<std::pair<json::array, std::string>> validate_job_fields(const json::object& fields)
{
    for (const auto& field : fields)
    {
        const std::string_view name = field.key();
        const auto& value = field.value();
        if (name == "Id" || name == "JobId__c")
        {
            return std::pair{
                api_error(
                    std::string(name) + " field should not be specified in the sobject data.",
                    "INVALID_FIELD",
                    {name}
                ),
                std::string(name) + " in the upsert body"};
        }
        const bool is_text = name == "PatientId__c" || name == "Summary__c" || name == "ClaimDataSummary__c";
        const bool is_picklist = name == "Status__c" || name == "ClaimDataStatus__c";
        if (!is_text && !is_picklist && name != "StartTime__c")
        {
            return std::pair{
                api_error(
                    "No such column '" + std::string(name) + "' on sobject of type PatientSyncJob__c",
                    "INVALID_FIELD"
                ),
                "unknown field " + std::string(name).substr(0, 60)};
        }
        if (value.is_null())
            continue;
        if (!value.is_string())
        {
            return std::pair{
                api_error(
                    "Cannot deserialize instance of string from a non-string value for " + std::string(name),
                    "JSON_PARSER_ERROR"
                ),
                "non-string value for " + std::string(name)};
        }
        const std::string_view text = value.get_string();
        if (is_picklist && std::find(job_statuses.begin(), job_statuses.end(), text) == job_statuses.end())
        {
            return std::pair{
                api_error(
                    "bad value for restricted picklist field: " + std::string(text),
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    {name}
                ),
                "bad picklist value for " + std::string(name)};
        }
        const std::size_t limit = name == "PatientId__c" ? 20 : long_text_limit;
        if (is_text && count_code_points(text) > limit)
        {
            return std::pair{
                api_error(
                    std::string(name) + ": data value too large (max length=" + std::to_string(limit) + ")",
                    "STRING_TOO_LONG",
                    {name}
                ),
                std::string(name) + " too long"};
        }
        if (name == "StartTime__c" && !is_salesforce_datetime(text))
        {
            return std::pair{
                api_error(
                    "Cannot deserialize instance of datetime from VALUE_STRING value " +
                        std::string(text).substr(0, 40) + " or request may be missing a required field",
                    "JSON_PARSER_ERROR"
                ),
                "StartTime__c is not an ISO 8601 date-time"};
        }
    }
    return std::nullopt;
}

route_response handle_job_upsert(
    sandbox_state& state,
    const http_request& request,
    std::string_view version,
    std::string_view job_id_encoded
)
{
    state.org.count_api_call();
    if (!std::regex_match(version.begin(), version.end(), std::regex(R"(v\d{2}\.\d)")))
        return rest_response(
            state, 404, api_error("The requested resource does not exist", "NOT_FOUND"), "unknown API version"
        );

    const auto token = bearer_token(request);
    if (token && state.payer_tokens.was_issued(*token))
        state.seen.count_foreign_authorization(host_kind::salesforce);
    if (!token || !state.org.is_valid_token(*token))
        return rest_response(
            state,
            401,
            api_error("Session expired or invalid", "INVALID_SESSION_ID"),
            token ? "invalid session" : "missing bearer token"
        );

    if (request.method() != http::verb::patch)
    {
        return rest_response(
            state,
            405,
            api_error(
                "HTTP Method '" + std::string(request.method_string()) +
                    "' not allowed. Allowed are HEAD,GET,PATCH,DELETE",
                "METHOD_NOT_ALLOWED"
            ),
            "method not allowed"
        );
    }
    const auto decoded = parse_form("x=" + std::string(job_id_encoded));
    const std::string job_id = decoded && decoded->size() == 1 ? decoded->front().value : std::string();
    if (job_id.empty() || job_id.find('/') != std::string::npos)
        return rest_response(
            state,
            404,
            api_error("Provided external ID field does not exist or is not accessible", "NOT_FOUND"),
            "empty or malformed JobId__c"
        );
    if (count_code_points(job_id) > 50)
        return rest_response(
            state,
            400,
            api_error("JobId__c: data value too large (max length=50)", "STRING_TOO_LONG", {"JobId__c"}),
            "JobId__c too long"
        );
    if (const auto type = media_type(request); type != "application/json")
        return rest_response(
            state,
            415,
            api_error(
                "Content-Type header specified in HTTP request is not supported: " + type.substr(0, 60),
                "UNSUPPORTED_MEDIA_TYPE"
            ),
            "upsert body is not application/json"
        );

    boost::system::error_code ec;
    const auto body = json::parse(request.body(), ec);
    if (ec || !body.is_object())
        return rest_response(
            state,
            400,
            api_error("The request body is not a JSON object", "JSON_PARSER_ERROR"),
            "upsert body is not a JSON object"
        );
    if (auto error = validate_job_fields(body.get_object()))
        return rest_response(state, 400, error->first, std::move(error->second));

    const auto [id, created] = state.org.upsert_job(job_id, body.get_object());
    json::object result{{"id", id}, {"success", true}, {"errors", json::array{}}, {"created", created}};
    return rest_response(state, created ? 201 : 200, result, {});
}

}  // namespace

route_response handle_salesforce_request(
    sandbox_state& state, const http_request& request, std::int64_t now_ms
)
{
    // The path is matched undecoded so that an encoded "/" in a job id stays inside it.
    std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/services/oauth2/token")
        return handle_token(state, request, now_ms);

    constexpr std::string_view data_prefix = "/services/data/";
    if (path.starts_with(data_prefix))
    {
        const std::string_view rest = path.substr(data_prefix.size());
        const auto slash = rest.find('/');
        if (slash != std::string_view::npos && rest.substr(slash).starts_with(job_path_prefix))
            return handle_job_upsert(
                state, request, rest.substr(0, slash), rest.substr(slash + job_path_prefix.size())
            );
        state.org.count_api_call();
        auto response = rest_response(
            state,
            404,
            api_error("The requested resource does not exist", "NOT_FOUND"),
            "no such REST resource"
        );
        response.route = "/services/data/(other)";
        return response;
    }
    return {
        make_json_response(404, api_error("The requested resource does not exist", "NOT_FOUND")),
        std::string(path.substr(0, 100)),
        "no such route"};
}

}  // namespace bbsync::sandbox

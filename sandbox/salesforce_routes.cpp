#include "sandbox/salesforce_routes.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <array>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/datacloud_routes.hpp"
#include "sandbox/fhir_time.hpp"
#include "sandbox/request_parsing.hpp"

namespace bbsync::sandbox {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view job_path_prefix = "/sobjects/PatientSyncJob__c/JobId__c/";
constexpr std::string_view job_route = "/services/data/{v}/sobjects/PatientSyncJob__c/JobId__c/{id}";
constexpr std::size_t long_text_limit = 32768;
constexpr std::string_view collection_path = "/composite/sobjects/PatientSyncJob__c/JobId__c";
constexpr std::string_view collection_route =
    "/services/data/{v}/composite/sobjects/PatientSyncJob__c/JobId__c";
constexpr std::size_t max_collection_records = 200;
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
    response.set(
        "Sforce-Limit-Info",
        "api-usage=" + std::to_string(state.org.api_usage()) + "/" +
            std::to_string(state.org.daily_api_limit())
    );
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
    const auto grant_type = find_param(*form, "grant_type");
    if (grant_type != "client_credentials" && grant_type != "password")
        return bad_request("unsupported_grant_type", "grant type not supported", "unsupported grant_type");
    if (find_param(*form, "client_id") != sf_client_id ||
        find_param(*form, "client_secret") != sf_client_secret)
        return bad_request(
            "invalid_client", "invalid client credentials", "invalid Salesforce client credentials"
        );
    if (grant_type == "password" &&
        (find_param(*form, "username") != dc_username || find_param(*form, "password") != dc_password))
        return bad_request("invalid_grant", "authentication failure", "wrong username or password");

    const auto token = state.org.issue_token(now_ms);
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

// Counts the call against the allowance and checks the API version and the session, as every
// /services/data call does. Returns the error response, or nullopt when the call may go on.
std::optional<route_response> check_rest_call(
    sandbox_state& state, const http_request& request, std::string_view version, std::int64_t now_ms
)
{
    if (!state.org.try_count_api_call(now_ms))
        return rest_response(
            state,
            403,
            api_error("TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED"),
            "daily API limit exceeded"
        );
    if (!std::regex_match(version.begin(), version.end(), std::regex(R"(v\d{2}\.\d)")))
        return rest_response(
            state, 404, api_error("The requested resource does not exist", "NOT_FOUND"), "unknown API version"
        );

    const auto token = bearer_token(request);
    if (token && state.payer_tokens.was_issued(*token))
        state.seen.count_foreign_authorization(host_kind::salesforce);
    if (!token || !state.org.is_live_token(*token, now_ms))
        return rest_response(
            state,
            401,
            api_error("Session expired or invalid", "INVALID_SESSION_ID"),
            token ? "invalid session" : "missing bearer token"
        );
    return std::nullopt;
}

route_response handle_job_upsert(
    sandbox_state& state,
    const http_request& request,
    std::string_view version,
    std::string_view job_id_encoded,
    std::int64_t now_ms
)
{
    if (auto error = check_rest_call(state, request, version, now_ms))
        return std::move(*error);

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

// Returns the error item of a record in a Collections response.
json::object collection_error(std::string_view code, std::string_view message, json::array fields = {})
{
    return json::object{
        {"id", nullptr},
        {"success", false},
        {"errors",
         json::array{
             json::object{{"statusCode", code}, {"message", message}, {"fields", std::move(fields)}}}},
        {"created", false},
    };
}

// Checks one record of a Collections upsert like the single upsert checks its body. Returns
// the error item, or nullopt with the JobId__c and the fields to write.
std::optional<json::object> check_collection_record(
    const json::value& record, std::string& job_id, json::object& fields
)
{
    if (!record.is_object())
        return collection_error("JSON_PARSER_ERROR", "each record must be a JSON object");
    fields = record.get_object();
    const auto* attributes = fields.if_contains("attributes");
    const auto* type = attributes != nullptr && attributes->is_object()
                           ? attributes->get_object().if_contains("type")
                           : nullptr;
    if (type == nullptr || !type->is_string() || type->get_string() != "PatientSyncJob__c")
        return collection_error(
            "INVALID_TYPE", "attributes.type must be PatientSyncJob__c for this endpoint", {"attributes"}
        );
    fields.erase("attributes");
    const auto* id_value = fields.if_contains("JobId__c");
    if (id_value == nullptr || !id_value->is_string() || id_value->get_string().empty())
        return collection_error("MISSING_ARGUMENT", "JobId__c not specified", {"JobId__c"});
    job_id = std::string(id_value->get_string());
    if (count_code_points(job_id) > 50)
        return collection_error(
            "STRING_TOO_LONG", "JobId__c: data value too large (max length=50)", {"JobId__c"}
        );
    fields.erase("JobId__c");
    if (auto error = validate_job_fields(fields))
    {
        const auto& detail = error->first.at(0).as_object();
        json::array names;
        if (const auto* listed = detail.if_contains("fields"))
            names = listed->as_array();
        return collection_error(detail.at("errorCode").as_string(), detail.at("message").as_string(), names);
    }
    return std::nullopt;
}

// Handles the sObject Collections upsert of PatientSyncJob__c records by JobId__c: at most
// 200 records, each checked like the single upsert. Returns 200 with one result per record
// in request order. With allOrNone, one bad record rolls back the whole call.
route_response handle_collection_upsert(
    sandbox_state& state, const http_request& request, std::string_view version, std::int64_t now_ms
)
{
    auto with_route = [](route_response response) {
        response.route = std::string(collection_route);
        return response;
    };
    if (auto error = check_rest_call(state, request, version, now_ms))
        return with_route(std::move(*error));

    // Collections upsert exists from API version 46.0.
    if (std::stoi(std::string(version.substr(1, 2))) < 46)
        return with_route(rest_response(
            state,
            404,
            api_error("The requested resource does not exist", "NOT_FOUND"),
            "Collections upsert needs API version 46.0 or later"
        ));
    if (request.method() != http::verb::patch)
        return with_route(rest_response(
            state,
            405,
            api_error(
                "HTTP Method '" + std::string(request.method_string()) + "' not allowed. Allowed are PATCH",
                "METHOD_NOT_ALLOWED"
            ),
            "method not allowed"
        ));
    boost::system::error_code ec;
    const auto body = json::parse(request.body(), ec);
    const auto* records = !ec && body.is_object() ? body.get_object().if_contains("records") : nullptr;
    if (media_type(request) != "application/json" || records == nullptr || !records->is_array())
        return with_route(rest_response(
            state,
            400,
            api_error("The request body must be a JSON object with a records array", "JSON_PARSER_ERROR"),
            "Collections body is not {\"records\": [...]}"
        ));
    if (records->get_array().size() > max_collection_records)
        return with_route(rest_response(
            state,
            400,
            api_error(
                "record limit reached. cannot submit more than 200 records into this call",
                "EXCEEDED_ID_LIMIT"
            ),
            "more than 200 records"
        ));
    const auto* all_or_none_value = body.get_object().if_contains("allOrNone");
    const bool all_or_none =
        all_or_none_value != nullptr && all_or_none_value->is_bool() && all_or_none_value->get_bool();

    // Check every record first, so that allOrNone can roll back without writing.
    const auto& items = records->get_array();
    std::vector<std::optional<json::object>> errors(items.size());
    std::vector<std::pair<std::string, json::object>> writes(items.size());
    bool any_failed = false;
    for (std::size_t i = 0; i < items.size(); ++i)
    {
        errors[i] = check_collection_record(items[i], writes[i].first, writes[i].second);
        if (errors[i])
        {
            any_failed = true;
            state.seen.count_rejection(
                host_kind::salesforce,
                std::string(collection_route) + " record",
                std::string(errors[i]->at("errors").at(0).at("statusCode").as_string())
            );
        }
    }

    // Write the valid records, or none of them.
    // NOTE: a JobId__c repeated within one call is written twice in order; how Salesforce
    // treats such a call is not checked here.
    json::array results;
    for (std::size_t i = 0; i < items.size(); ++i)
    {
        if (errors[i])
            results.push_back(std::move(*errors[i]));
        else if (all_or_none && any_failed)
            results.push_back(collection_error(
                "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "Record rolled back because not all records were valid and the request was using AllOrNone "
                "header"
            ));
        else
        {
            const auto [id, created] = state.org.upsert_job(writes[i].first, writes[i].second);
            results.push_back(json::object{
                {"id", id}, {"success", true}, {"errors", json::array{}}, {"created", created}});
        }
    }
    return with_route(rest_response(state, 200, results, {}));
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
    if (path == "/services/a360/token")
        return handle_a360_token(state, request, now_ms);

    constexpr std::string_view data_prefix = "/services/data/";
    if (path.starts_with(data_prefix))
    {
        const std::string_view rest = path.substr(data_prefix.size());
        const auto slash = rest.find('/');
        if (slash != std::string_view::npos && rest.substr(slash).starts_with(job_path_prefix))
            return handle_job_upsert(
                state, request, rest.substr(0, slash), rest.substr(slash + job_path_prefix.size()), now_ms
            );
        if (slash != std::string_view::npos && rest.substr(slash) == collection_path)
            return handle_collection_upsert(state, request, rest.substr(0, slash), now_ms);
        if (!state.org.try_count_api_call(now_ms))
        {
            auto response = rest_response(
                state,
                403,
                api_error("TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED"),
                "daily API limit exceeded"
            );
            response.route = "/services/data/(other)";
            return response;
        }
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

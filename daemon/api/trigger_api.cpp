#include "daemon/api/trigger_api.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/crypto.h>

#include "daemon/service/log.hpp"
#include "daemon/sync/sync_engine.hpp"
#include "daemon/sync/sync_job.hpp"

namespace http = boost::beast::http;
namespace json = boost::json;

namespace bbsync::api {
namespace {

// Salesforce record ids are 15 or 18 characters; the column allows up to 20.
constexpr std::size_t max_patient_id_length = 20;

// Payer access tokens are far shorter; this only bounds what is kept in memory.
constexpr std::size_t max_access_token_length = 8192;

http_response json_response(
    http::status status, const json::value& body, const char* content_type = "application/json"
)
{
    http_response response{status, 11};
    response.set(http::field::content_type, content_type);
    response.set(http::field::cache_control, "no-store");
    response.body() = json::serialize(body);
    return response;
}

// A FHIR R4 OperationOutcome with one issue. `field`, when set, goes into issue.expression.
http_response operation_outcome(
    http::status status, const char* code, const std::string& text, const std::string& field = {}
)
{
    json::object issue{{"severity", "error"}, {"code", code}, {"diagnostics", text}};
    if (!field.empty())
    {
        issue["expression"] = json::array{field};
    }
    const json::object outcome{{"resourceType", "OperationOutcome"}, {"issue", json::array{issue}}};
    return json_response(status, outcome, "application/fhir+json");
}

json::value optional_text(const std::optional<std::string>& text)
{
    return text ? json::value(*text) : json::value(nullptr);
}

// The job as PatientSyncJob__c shows it, plus the local counters. Never contains tokens.
json::object job_json(const job_record& job)
{
    return json::object{
        {"jobId", job.job_id},
        {"patientId", job.sf_patient_id},
        {"trigger", job.trigger},
        {"status", job.status},
        {"startTime", job.start_time},
        {"endTime", optional_text(job.end_time)},
        {"summary", job.summary},
        {"claimDataStatus", job.claim_data_status},
        {"claimDataSummary", job.claim_data_summary},
        {"claimDataIngestion", job.claim_data_ingestion},
        {"pagesFetched", job.pages_fetched},
        {"eobsFetched", job.eobs_fetched},
        {"resourcesWritten", job.resources_written},
        {"resourcesFailed", job.resources_failed},
        {"lastErrorClass", optional_text(job.last_error_class)},
        {"watermarkBefore", optional_text(job.watermark_before)},
        {"watermarkAfter", optional_text(job.watermark_after)},
        {"mirrorState", job.mirror_state},
    };
}

}  // namespace

std::variant<sync_request, request_problem> parse_sync_request(std::string_view body)
{
    boost::system::error_code parse_error;
    const auto value = json::parse(body, parse_error);
    if (parse_error)
    {
        return request_problem{"", "the request body is not valid JSON"};
    }
    const auto* object = value.if_object();
    if (object == nullptr)
    {
        return request_problem{"", "the request body must be a JSON object"};
    }

    sync_request request;
    const auto* patient_id = object->if_contains("patientId");
    if (patient_id == nullptr)
    {
        return request_problem{"patientId", "patientId is missing: give the Salesforce patient id"};
    }
    if (!patient_id->is_string() || patient_id->get_string().empty() ||
        patient_id->get_string().size() > max_patient_id_length)
    {
        return request_problem{"patientId", "patientId must be a string of 1 to 20 characters"};
    }
    request.patient_id = std::string(patient_id->get_string());

    const auto* token = object->if_contains("accessToken");
    if (token == nullptr)
    {
        return request_problem{"accessToken", "accessToken is missing: give the payer access token"};
    }
    if (!token->is_string() || token->get_string().empty() ||
        token->get_string().size() > max_access_token_length)
    {
        return request_problem{
            "accessToken", "accessToken must be a non-empty string of at most 8192 characters"};
    }
    request.access_token = std::string(token->get_string());

    if (const auto* flag = object->if_contains("claimDataIngestion"); flag != nullptr && !flag->is_null())
    {
        if (!flag->is_bool())
        {
            return request_problem{"claimDataIngestion", "claimDataIngestion must be true or false"};
        }
        request.claim_data_ingestion = flag->get_bool();
    }
    return request;
}

bool bearer_matches(std::string_view authorization, const std::string& api_key)
{
    constexpr std::string_view scheme = "Bearer ";
    if (api_key.empty() || authorization.size() < scheme.size())
    {
        return false;
    }
    bool scheme_ok = true;
    for (std::size_t i = 0; i < scheme.size(); ++i)
    {
        scheme_ok = scheme_ok && std::tolower(static_cast<unsigned char>(authorization[i])) ==
                                     std::tolower(static_cast<unsigned char>(scheme[i]));
    }
    const auto presented = authorization.substr(scheme.size());
    // The length of the key is not secret; its bytes are compared without early exit.
    if (!scheme_ok || presented.size() != api_key.size())
    {
        return false;
    }
    return CRYPTO_memcmp(presented.data(), api_key.data(), api_key.size()) == 0;
}

trigger_api::trigger_api(sync_engine& engine, std::string prefix, std::string api_key)
    : engine_(engine), prefix_(std::move(prefix)), api_key_(std::move(api_key))
{}

http_response trigger_api::handle(const http_request& request)
{
    const auto target = std::string_view(request.target());
    const auto path = target.substr(0, target.find('?'));
    const auto sync_path = prefix_ + "$sync";
    const auto jobs_prefix = prefix_ + "jobs/";
    const bool is_sync = path == sync_path;
    const bool is_job = path.starts_with(jobs_prefix) && path.size() > jobs_prefix.size() &&
                        path.substr(jobs_prefix.size()).find('/') == std::string_view::npos;
    if (!is_sync && !is_job)
    {
        return operation_outcome(
            http::status::not_found,
            "not-found",
            "no such endpoint: use POST " + sync_path + " or GET " + jobs_prefix + "{jobId}"
        );
    }

    // Every endpoint needs the API key.
    if (!bearer_matches(request[http::field::authorization], api_key_))
    {
        auto response = operation_outcome(
            http::status::unauthorized, "login", "a valid API key is required as Authorization: Bearer <key>"
        );
        response.set(http::field::www_authenticate, "Bearer realm=\"bbsync\"");
        return response;
    }

    const auto expected = is_sync ? http::verb::post : http::verb::get;
    if (request.method() != expected)
    {
        auto response = operation_outcome(
            http::status::method_not_allowed,
            "not-supported",
            std::string("method not allowed: use ") + (is_sync ? "POST" : "GET")
        );
        response.set(http::field::allow, is_sync ? "POST" : "GET");
        return response;
    }

    try
    {
        return is_sync ? start_sync(request) : get_job(std::string(path.substr(jobs_prefix.size())));
    }
    catch (const std::exception& e)
    {
        log::error("api", std::string("request failed: ") + e.what());
        return operation_outcome(
            http::status::internal_server_error, "exception", "the request failed; see the service log"
        );
    }
}

http_response trigger_api::start_sync(const http_request& request)
{
    // Step 1: a valid body.
    auto parsed = parse_sync_request(request.body());
    if (const auto* problem = std::get_if<request_problem>(&parsed))
    {
        return operation_outcome(
            http::status::bad_request,
            problem->field.empty() ? "structure" : "invalid",
            problem->message,
            problem->field
        );
    }
    auto& sync = std::get<sync_request>(parsed);

    // Step 2: a registered patient without a running job.
    const auto patient = engine_.repo().find_patient_by_sf_id(sync.patient_id);
    if (!patient)
    {
        return operation_outcome(
            http::status::not_found,
            "not-found",
            "patientId is not a registered patient: add it with bbsync patient add",
            "patientId"
        );
    }
    if (engine_.stopping())
    {
        return operation_outcome(
            http::status::service_unavailable,
            "transient",
            "bbsync is stopping; send the request again after it restarts"
        );
    }
    if (engine_.has_active_job(sync.patient_id))
    {
        return operation_outcome(
            http::status::conflict,
            "conflict",
            "a sync job for this patient is already running; poll it or retry later",
            "patientId"
        );
    }

    // Step 3: record and start the job, and respond before it runs.
    const auto job_id =
        engine_.start_api_job(*patient, std::move(sync.access_token), sync.claim_data_ingestion);
    log::info("api", "job " + job_id + " accepted for patient " + std::to_string(patient->key));
    auto response = json_response(http::status::accepted, json::object{{"jobId", job_id}});
    response.set(http::field::location, prefix_ + "jobs/" + job_id);
    return response;
}

http_response trigger_api::get_job(const std::string& job_id)
{
    const auto job = engine_.repo().find_job(job_id);
    if (!job)
    {
        return operation_outcome(http::status::not_found, "not-found", "no job with this jobId");
    }
    return json_response(http::status::ok, job_json(*job));
}

}  // namespace bbsync::api

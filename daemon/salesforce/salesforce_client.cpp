#include "daemon/salesforce/salesforce_client.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <stdexcept>

#include "daemon/common/retry_after.hpp"
#include "daemon/common/text.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "daemon/service/log.hpp"
#include "store/clock.hpp"

namespace json = boost::json;

namespace bbsync {
namespace {

outcome<coro::https_origin> origin_of(const std::string& url, std::string* path = nullptr)
{
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "https" || parsed->host().empty())
    {
        return failure{"salesforce.bad_url", "not an https URL: " + url, false};
    }
    coro::https_origin origin{
        std::string(parsed->host()), parsed->has_port() ? parsed->port_number() : std::uint16_t(443)};
    if (path != nullptr)
    {
        *path = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
    }
    return origin;
}

failure transport_failure(const std::string& prefix, const boost::system::error_code& ec)
{
    const bool timed_out = ec == boost::beast::error::timeout;
    return failure{
        prefix + (timed_out ? ".timeout" : ".transport"),
        ec.category().name() + std::string(" error ") + std::to_string(ec.value()) + ": " + ec.message(),
        true};
}

// The errorCode of a Salesforce REST error body `[{"errorCode": ..., "message": ...}]`.
// The message is not used: it can echo field values.
std::string salesforce_error_code(const std::string& body)
{
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    if (ec || !parsed.is_array() || parsed.get_array().empty() || !parsed.get_array()[0].is_object())
    {
        return {};
    }
    const auto* code = parsed.get_array()[0].get_object().if_contains("errorCode");
    return code && code->is_string() ? std::string(code->get_string()) : std::string();
}

}  // namespace

json::object patient_sync_job_fields(const job_record& job)
{
    json::object fields;
    fields["PatientId__c"] = job.sf_patient_id;
    fields["StartTime__c"] = job.start_time;
    fields["Status__c"] = job.status;
    fields["Summary__c"] = truncate_utf8(job.summary, max_long_text_chars);
    fields["ClaimDataStatus__c"] = job.claim_data_status;
    fields["ClaimDataSummary__c"] = truncate_utf8(job.claim_data_summary, max_long_text_chars);
    return fields;
}

std::optional<batch_entries> parse_batch_entries(const json::value& body, std::size_t expected_entries)
{
    const auto* bundle = body.if_object();
    if (bundle == nullptr)
    {
        return std::nullopt;
    }
    const auto* type = bundle->if_contains("type");
    const auto* entries = bundle->if_contains("entry");
    if (type == nullptr || !type->is_string() || type->get_string() != "batch-response" ||
        entries == nullptr || !entries->is_array() || entries->get_array().size() != expected_entries)
    {
        return std::nullopt;
    }
    batch_entries results;
    for (const auto& entry : entries->get_array())
    {
        const auto* response = entry.is_object() ? entry.get_object().if_contains("response") : nullptr;
        const auto* fields = response ? response->if_object() : nullptr;
        const auto* status = fields ? fields->if_contains("status") : nullptr;
        if (status == nullptr || !status->is_string() || status->get_string().size() < 3)
        {
            return std::nullopt;
        }
        const auto text = status->get_string();
        batch_entry_result result;
        for (std::size_t i = 0; i < 3; ++i)
        {
            if (text[i] < '0' || text[i] > '9')
            {
                return std::nullopt;
            }
            result.status = result.status * 10 + static_cast<unsigned>(text[i] - '0');
        }
        if (const auto* location = fields->if_contains("location"); location && location->is_string())
        {
            result.location = std::string(location->get_string());
        }
        const auto* outcome = fields->if_contains("outcome");
        const auto* issues =
            outcome && outcome->is_object() ? outcome->get_object().if_contains("issue") : nullptr;
        if (issues && issues->is_array() && !issues->get_array().empty() &&
            issues->get_array()[0].is_object())
        {
            const auto* code = issues->get_array()[0].get_object().if_contains("code");
            // Issue codes are short FHIR tokens; anything else is not kept.
            if (code && code->is_string() && code->get_string().size() <= 32)
            {
                result.issue_code = std::string(code->get_string());
            }
        }
        results.push_back(std::move(result));
    }
    return results;
}

std::optional<batch_outcome> parse_batch_response(const json::value& body, std::size_t expected_entries)
{
    auto entries = parse_batch_entries(body, expected_entries);
    if (!entries)
    {
        return std::nullopt;
    }
    batch_outcome statuses;
    for (const auto& entry : *entries)
    {
        statuses.push_back(entry.status);
    }
    return statuses;
}

std::optional<std::vector<record_upsert_result>> parse_collection_upsert_response(
    const json::value& body, std::size_t expected_records
)
{
    const auto* records = body.if_array();
    if (records == nullptr || records->size() != expected_records)
    {
        return std::nullopt;
    }
    std::vector<record_upsert_result> results;
    for (const auto& record : *records)
    {
        const auto* fields = record.if_object();
        const auto* success = fields ? fields->if_contains("success") : nullptr;
        if (success == nullptr || !success->is_bool())
        {
            return std::nullopt;
        }
        record_upsert_result result;
        result.success = success->get_bool();
        const auto* errors = fields->if_contains("errors");
        if (!result.success && errors && errors->is_array() && !errors->get_array().empty() &&
            errors->get_array()[0].is_object())
        {
            const auto* code = errors->get_array()[0].get_object().if_contains("statusCode");
            if (code && code->is_string())
            {
                result.error_code = std::string(code->get_string());
            }
        }
        results.push_back(std::move(result));
    }
    return results;
}

std::optional<std::string> first_searchset_id(const json::value& body)
{
    const auto* bundle = body.if_object();
    const auto* type = bundle ? bundle->if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string() || type->get_string() != "searchset")
    {
        return std::nullopt;
    }
    const auto* entries = bundle->if_contains("entry");
    if (entries == nullptr || !entries->is_array())
    {
        return std::nullopt;
    }
    for (const auto& entry : entries->get_array())
    {
        const auto* fields = entry.if_object();
        const auto* resource = fields ? fields->if_contains("resource") : nullptr;
        const auto* object = resource ? resource->if_object() : nullptr;
        const auto* resource_type = object ? object->if_contains("resourceType") : nullptr;
        const auto* id = object ? object->if_contains("id") : nullptr;
        if (resource_type && resource_type->is_string() && resource_type->get_string() == "Practitioner" &&
            id && id->is_string() && !id->get_string().empty())
        {
            return std::string(id->get_string());
        }
    }
    return std::nullopt;
}

std::string healthcare_api_base(const std::string& bundle_path)
{
    std::string base = bundle_path;
    while (!base.empty() && base.back() == '/')
    {
        base.pop_back();
    }
    constexpr std::string_view bundle_segment = "/Bundle";
    if (base.ends_with(bundle_segment))
    {
        base.resize(base.size() - bundle_segment.size());
    }
    return base;
}

std::chrono::system_clock::time_point next_utc_midnight(std::chrono::system_clock::time_point now)
{
    return std::chrono::floor<std::chrono::days>(now) + std::chrono::days(1);
}

salesforce_client::salesforce_client(
    coro::https_client& http, const config& settings, boost::asio::any_io_executor executor
)
    : http_(http), settings_(settings),
      bundle_calls_(executor, static_cast<std::size_t>(settings.max_concurrent_bundle_calls)),
      token_lock_(executor, 1)
{}

coro::awaitable<outcome<std::string>> salesforce_client::access_token(
    const std::optional<std::string>& rejected
)
{
    // One token request at a time. Callers whose rejected token was already replaced by
    // another caller's renewal reuse the new token instead of renewing again.
    auto lock = co_await token_lock_.acquire();
    if (token_ && token_ != rejected)
    {
        co_return *token_;
    }
    token_.reset();

    std::string path;
    auto origin = origin_of(settings_.sf_token_url, &path);
    if (!origin)
    {
        co_return origin.error();
    }
    coro::http_request request;
    request.method = "POST";
    request.target = path;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    request.body = form_encode({
        {"grant_type", "client_credentials"},
        {"client_id", settings_.sf_client_id},
        {"client_secret", settings_.sf_client_secret},
    });
    coro::request_options options;
    options.body_limit = 64 * 1024;
    options.timeout = settings_.request_timeout;

    auto response = co_await http_.send(*origin, request, options);
    if (!response)
    {
        co_return transport_failure("salesforce.token", response.error());
    }
    if (response->status != 200)
    {
        co_return failure{
            "salesforce.token_rejected",
            "the Salesforce token endpoint returned HTTP " + std::to_string(response->status) +
                ": check hcOrg.tokenUrl, hcOrg.client_id and hcOrg.client_secret",
            response->status >= 500};
    }
    boost::system::error_code ec;
    auto body = json::parse(response->body, ec);
    const auto* object = ec ? nullptr : body.if_object();
    const auto* token = object ? object->if_contains("access_token") : nullptr;
    if (token == nullptr || !token->is_string() || token->get_string().empty())
    {
        co_return failure{
            "salesforce.token_bad_response", "the Salesforce token response has no access_token", true};
    }

    // The instance to call comes from the token response unless configured.
    const auto* instance_url = object->if_contains("instance_url");
    const std::string instance = !settings_.sf_instance_url.empty() ? settings_.sf_instance_url
                                 : instance_url && instance_url->is_string()
                                     ? std::string(instance_url->get_string())
                                     : std::string();
    auto instance_origin = origin_of(instance);
    if (!instance_origin)
    {
        co_return failure{
            "salesforce.token_bad_response",
            "no usable instance URL: set hcOrg.instanceUrl or check the token response",
            false};
    }
    instance_ = *instance_origin;
    token_ = std::string(token->get_string());
    log::info("salesforce", "obtained an access token for " + instance_->authority());
    co_return *token_;
}

coro::awaitable<outcome<coro::http_response>> salesforce_client::send_authorized(
    const coro::https_origin& origin,
    coro::http_request request,
    const coro::request_options& options,
    const char* error_prefix
)
{
    request.headers.emplace_back("Authorization", "");
    std::optional<std::string> rejected;
    for (int attempt = 0; attempt < 2; ++attempt)
    {
        auto token = co_await access_token(rejected);
        if (!token)
        {
            co_return token.error();
        }
        request.headers.back().second = "Bearer " + *token;
        auto response = co_await http_.send(origin, request, options);
        if (!response)
        {
            co_return transport_failure(error_prefix, response.error());
        }
        if (response->status == 401 && attempt == 0)
        {
            log::notice(
                "salesforce", "session expired or invalid (HTTP 401); renewing the access token once"
            );
            rejected = *token;
            continue;
        }
        co_return std::move(*response);
    }
    co_return failure{
        "salesforce.unauthorized", "Salesforce rejected a freshly issued access token (HTTP 401)", false};
}

coro::awaitable<outcome<batch_entries>> salesforce_client::send_bundle(const json::object& bundle)
{
    const auto* entries = bundle.if_contains("entry");
    const std::size_t entry_count = entries && entries->is_array() ? entries->get_array().size() : 0;
    auto body = mapping::serialize_fhir_json(bundle);
    co_return co_await send_bundle_text(std::move(body), entry_count);
}

coro::awaitable<outcome<batch_entries>> salesforce_client::send_bundle_text(
    std::string body, std::size_t entry_count
)
{
    if (auto paused = paused_failure())
    {
        co_return *paused;
    }
    auto permit = co_await bundle_calls_.acquire();

    coro::http_request request;
    request.method = "POST";
    request.target = settings_.bundle_path;
    request.headers = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
    request.body = std::move(body);
    coro::request_options options;
    options.timeout = settings_.request_timeout;
    options.body_limit = 16 * 1024 * 1024;

    // GCC 12 destroys brace-initialised temporaries in a co_await expression twice, so
    // every argument of an awaited call is a named local.
    const coro::https_origin origin{settings_.bundle.host, settings_.bundle.port};
    auto response = co_await send_authorized(origin, std::move(request), options, "healthcloud");
    if (!response)
    {
        co_return response.error();
    }
    if (response->status != 200)
    {
        note_error_code(salesforce_error_code(response->body));
        failure error{
            "healthcloud.http_" + std::to_string(response->status),
            "the Healthcare API returned HTTP " + std::to_string(response->status) + " for a batch bundle",
            response->status == 429 || response->status >= 500};
        if (auto header = response->header("Retry-After"))
        {
            error.retry_after = parse_retry_after(*header, std::chrono::system_clock::now());
        }
        co_return error;
    }
    boost::system::error_code ec;
    auto answer = json::parse(response->body, ec);
    auto statuses = ec ? std::nullopt : parse_batch_entries(answer, entry_count);
    if (!statuses)
    {
        co_return failure{
            "healthcloud.bad_response",
            "the Healthcare API answer is not a batch-response with one entry per request entry",
            false};
    }
    co_return std::move(*statuses);
}

coro::awaitable<outcome<void>> salesforce_client::upsert_job(const job_record& job)
{
    if (auto stop = co_await prepare_sobject_write())
    {
        co_return *stop;
    }
    coro::http_request request;
    request.method = "PATCH";
    request.target = "/services/data/" + settings_.sf_api_version + "/sobjects/PatientSyncJob__c/JobId__c/" +
                     percent_encode(job.job_id);
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    request.body = json::serialize(patient_sync_job_fields(job));
    coro::request_options options;
    options.timeout = settings_.request_timeout;
    options.body_limit = 1024 * 1024;

    auto response = co_await send_authorized(*instance_, std::move(request), options, "salesforce");
    if (!response)
    {
        co_return response.error();
    }
    if (response->status == 200 || response->status == 201 || response->status == 204)
    {
        co_return outcome<void>{};
    }
    co_return upsert_rejection(response->status, response->body, "upsert");
}

coro::awaitable<outcome<std::vector<record_upsert_result>>> salesforce_client::upsert_jobs(
    std::span<const job_record> jobs
)
{
    if (jobs.size() > max_collection_records)
    {
        throw std::invalid_argument(
            "upsert_jobs got " + std::to_string(jobs.size()) + " jobs; send at most " +
            std::to_string(max_collection_records) + " per call"
        );
    }
    if (auto stop = co_await prepare_sobject_write())
    {
        co_return *stop;
    }

    // allOrNone false: one bad record must not hold back the others.
    json::array records;
    for (const auto& job : jobs)
    {
        auto fields = patient_sync_job_fields(job);
        fields["attributes"] = json::object{{"type", "PatientSyncJob__c"}};
        fields["JobId__c"] = job.job_id;
        records.push_back(std::move(fields));
    }
    coro::http_request request;
    request.method = "PATCH";
    request.target =
        "/services/data/" + settings_.sf_api_version + "/composite/sobjects/PatientSyncJob__c/JobId__c";
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    request.body = json::serialize(json::object{{"allOrNone", false}, {"records", std::move(records)}});
    coro::request_options options;
    options.timeout = settings_.request_timeout;
    options.body_limit = 4 * 1024 * 1024;

    auto response = co_await send_authorized(*instance_, std::move(request), options, "salesforce");
    if (!response)
    {
        co_return response.error();
    }
    if (response->status != 200)
    {
        co_return upsert_rejection(response->status, response->body, "Collections upsert");
    }
    boost::system::error_code ec;
    auto body = json::parse(response->body, ec);
    auto results = ec ? std::nullopt : parse_collection_upsert_response(body, jobs.size());
    if (!results)
    {
        co_return failure{
            "salesforce.bad_response",
            "the Collections upsert answer is not an array with one result per record",
            true};
    }
    co_return std::move(*results);
}

coro::awaitable<outcome<std::optional<std::string>>> salesforce_client::find_practitioner(
    const std::string& system, const std::string& value
)
{
    if (auto paused = paused_failure())
    {
        co_return *paused;
    }
    // Searches count against the same Healthcare API concurrency limit as bundles.
    auto permit = co_await bundle_calls_.acquire();

    coro::http_request request;
    request.method = "GET";
    request.target = healthcare_api_base(settings_.bundle_path) +
                     "/Practitioner?identifier=" + percent_encode(system + "|" + value);
    request.headers = {{"Accept", "application/fhir+json"}};
    coro::request_options options;
    options.timeout = settings_.request_timeout;
    options.body_limit = 4 * 1024 * 1024;

    const coro::https_origin origin{settings_.bundle.host, settings_.bundle.port};
    auto response = co_await send_authorized(origin, std::move(request), options, "healthcloud");
    if (!response)
    {
        co_return response.error();
    }
    if (response->status != 200)
    {
        note_error_code(salesforce_error_code(response->body));
        failure error{
            "healthcloud.http_" + std::to_string(response->status),
            "the Healthcare API returned HTTP " + std::to_string(response->status) +
                " for a Practitioner search",
            response->status == 429 || response->status >= 500};
        if (auto header = response->header("Retry-After"))
        {
            error.retry_after = parse_retry_after(*header, std::chrono::system_clock::now());
        }
        co_return error;
    }
    boost::system::error_code ec;
    auto body = json::parse(response->body, ec);
    const auto* type = ec ? nullptr : body.is_object() ? body.get_object().if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string() || type->get_string() != "searchset")
    {
        co_return failure{
            "healthcloud.bad_response", "the Practitioner search answer is not a searchset Bundle", false};
    }
    co_return first_searchset_id(body);
}

void salesforce_client::pause_writes(std::chrono::system_clock::time_point until, std::string reason)
{
    paused_until_ = until;
    pause_reason_ = std::move(reason);
}

void salesforce_client::resume_writes() noexcept { paused_until_.reset(); }

std::optional<std::chrono::system_clock::time_point> salesforce_client::writes_paused_until() const
{
    if (paused_until_ && *paused_until_ > std::chrono::system_clock::now())
    {
        return paused_until_;
    }
    return std::nullopt;
}

void salesforce_client::note_error_code(const std::string& error_code)
{
    if (error_code != request_limit_exceeded)
    {
        return;
    }
    const auto now = std::chrono::system_clock::now();
    const auto until = limit_pause_ ? now + *limit_pause_ : next_utc_midnight(now);
    if (!writes_paused_until())
    {
        log::warning(
            "salesforce",
            "the org reached its API request limit (REQUEST_LIMIT_EXCEEDED); Salesforce writes are paused "
            "until " +
                store::to_iso(until)
        );
    }
    pause_writes(until, std::string("salesforce.") + request_limit_exceeded);
}

coro::awaitable<std::optional<failure>> salesforce_client::prepare_sobject_write()
{
    if (auto paused = paused_failure())
    {
        co_return paused;
    }
    // The instance origin is known once a token was obtained.
    if (!instance_)
    {
        const std::optional<std::string> none;
        auto token = co_await access_token(none);
        if (!token)
        {
            co_return token.error();
        }
    }
    co_return std::nullopt;
}

failure salesforce_client::upsert_rejection(unsigned status, const std::string& body, std::string_view what)
{
    auto error_class = "salesforce.http_" + std::to_string(status);
    const auto code = salesforce_error_code(body);
    note_error_code(code);
    if (!code.empty())
    {
        error_class += "." + code;
    }
    return failure{
        error_class,
        "Salesforce rejected the PatientSyncJob__c " + std::string(what) + " with HTTP " +
            std::to_string(status) + (code.empty() ? std::string() : " " + code),
        status == 429 || status >= 500 || code == "UNABLE_TO_LOCK_ROW"};
}

std::optional<failure> salesforce_client::paused_failure() const
{
    const auto until = writes_paused_until();
    if (!until)
    {
        return std::nullopt;
    }
    failure error{
        salesforce_paused_class,
        "Salesforce writes are paused until " + store::to_iso(*until) + " because of " + pause_reason_,
        false};
    error.retry_after = std::chrono::ceil<std::chrono::seconds>(*until - std::chrono::system_clock::now());
    return error;
}

}  // namespace bbsync

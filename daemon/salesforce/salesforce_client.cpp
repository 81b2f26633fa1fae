#include "daemon/salesforce/salesforce_client.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "daemon/common/retry_after.hpp"
#include "daemon/common/text.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "daemon/service/log.hpp"

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

std::optional<batch_outcome> parse_batch_response(const json::value& body, std::size_t expected_entries)
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
    batch_outcome statuses;
    for (const auto& entry : entries->get_array())
    {
        const auto* response = entry.is_object() ? entry.get_object().if_contains("response") : nullptr;
        const auto* status =
            response && response->is_object() ? response->get_object().if_contains("status") : nullptr;
        if (status == nullptr || !status->is_string() || status->get_string().size() < 3)
        {
            return std::nullopt;
        }
        const auto text = status->get_string();
        unsigned code = 0;
        for (std::size_t i = 0; i < 3; ++i)
        {
            if (text[i] < '0' || text[i] > '9')
            {
                return std::nullopt;
            }
            code = code * 10 + static_cast<unsigned>(text[i] - '0');
        }
        statuses.push_back(code);
    }
    return statuses;
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

coro::awaitable<outcome<batch_outcome>> salesforce_client::send_bundle(const json::object& bundle)
{
    auto permit = co_await bundle_calls_.acquire();

    coro::http_request request;
    request.method = "POST";
    request.target = settings_.bundle_path;
    request.headers = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
    request.body = mapping::serialize_fhir_json(bundle);
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
    auto body = json::parse(response->body, ec);
    const auto* entries = bundle.if_contains("entry");
    const std::size_t expected = entries && entries->is_array() ? entries->get_array().size() : 0;
    auto statuses = ec ? std::nullopt : parse_batch_response(body, expected);
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
    auto error_class = "salesforce.http_" + std::to_string(response->status);
    const auto code = salesforce_error_code(response->body);
    if (!code.empty())
    {
        error_class += "." + code;
    }
    co_return failure{
        error_class,
        "Salesforce rejected the PatientSyncJob__c upsert with HTTP " + std::to_string(response->status) +
            (code.empty() ? std::string() : " " + code),
        response->status == 429 || response->status >= 500 || code == "UNABLE_TO_LOCK_ROW"};
}

}  // namespace bbsync

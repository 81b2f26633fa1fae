#include "daemon/datacloud/datacloud_client.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "daemon/common/retry_after.hpp"
#include "daemon/common/text.hpp"
#include "daemon/service/log.hpp"

namespace json = boost::json;

namespace bbsync {
namespace {

// Token responses are small JSON objects, and ingestion responses are {"accepted":true}.
constexpr std::size_t max_response_bytes = 64 * 1024;

failure transport_failure(const std::string& prefix, const boost::system::error_code& ec)
{
    const bool timed_out = ec == boost::beast::error::timeout;
    return failure{
        prefix + (timed_out ? "timeout" : "transport"),
        ec.category().name() + std::string(" error ") + std::to_string(ec.value()) + ": " + ec.message(),
        true};
}

// The origin and path prefix of claimData.cdpConfig.url, where both token endpoints live.
struct login_endpoint
{
    coro::https_origin origin;
    std::string base_path;  // "" or "/prefix", without a trailing '/'
};

outcome<login_endpoint> parse_login_url(const std::string& url)
{
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "https" || parsed->host().empty())
    {
        return failure{
            datacloud_errors::not_configured,
            "claimData.cdpConfig.url is not an https URL: set it to the org's My Domain URL",
            false};
    }
    login_endpoint endpoint;
    endpoint.origin = coro::https_origin{
        std::string(parsed->host()), parsed->has_port() ? parsed->port_number() : std::uint16_t(443)};
    endpoint.base_path = std::string(parsed->encoded_path());
    while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/')
    {
        endpoint.base_path.pop_back();
    }
    return endpoint;
}

coro::http_request form_post(std::string target, std::string body)
{
    coro::http_request request;
    request.method = "POST";
    request.target = std::move(target);
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    request.body = std::move(body);
    return request;
}

}  // namespace

datacloud_client::datacloud_client(
    coro::https_client& http, const config& settings, boost::asio::any_io_executor executor
)
    : http_(http), settings_(settings), token_lock_(executor, 1)
{}

bool datacloud_client::login_configured() const noexcept
{
    return !settings_.cdp_url.empty() && !settings_.cdp_user.empty() && !settings_.cdp_password.empty() &&
           !settings_.cdp_client_id.empty() && !settings_.cdp_client_secret.empty();
}

coro::awaitable<outcome<std::string>> datacloud_client::request_core_token()
{
    if (!login_configured())
    {
        co_return failure{
            datacloud_errors::not_configured,
            "claim data ingestion needs claimData.cdpConfig.url, .user, .password, .client_id and "
            ".client_secret: set them or turn claim data ingestion off",
            false};
    }
    auto endpoint = parse_login_url(settings_.cdp_url);
    if (!endpoint)
    {
        co_return endpoint.error();
    }
    const auto request = form_post(
        endpoint->base_path + "/services/oauth2/token",
        form_encode({
            {"grant_type", "password"},
            {"client_id", settings_.cdp_client_id},
            {"client_secret", settings_.cdp_client_secret},
            {"username", settings_.cdp_user},
            {"password", settings_.cdp_password},
        })
    );
    coro::request_options options;
    options.body_limit = max_response_bytes;
    options.timeout = settings_.request_timeout;

    auto response = co_await http_.send(endpoint->origin, request, options);
    if (!response)
    {
        co_return transport_failure("datacloud.token_", response.error());
    }
    if (response->status == 400 || response->status == 401 || response->status == 403)
    {
        co_return failure{
            "datacloud.token_rejected",
            "the Salesforce token endpoint at claimData.cdpConfig.url rejected the password grant (HTTP " +
                std::to_string(response->status) +
                "): check claimData.cdpConfig.user, .password, .client_id and .client_secret",
            false};
    }
    if (response->status != 200)
    {
        failure error{
            "datacloud.token_http_" + std::to_string(response->status),
            "the Salesforce token endpoint at claimData.cdpConfig.url returned HTTP " +
                std::to_string(response->status),
            response->status == 429 || response->status >= 500};
        if (auto header = response->header("Retry-After"))
        {
            error.retry_after = parse_retry_after(*header, std::chrono::system_clock::now());
        }
        co_return error;
    }
    boost::system::error_code ec;
    auto body = json::parse(response->body, ec);
    const auto* object = ec ? nullptr : body.if_object();
    const auto* token = object ? object->if_contains("access_token") : nullptr;
    if (token == nullptr || !token->is_string() || token->get_string().empty())
    {
        co_return failure{
            "datacloud.token_bad_response", "the Salesforce token response has no access_token", true};
    }
    ++core_tokens_issued_;
    log::info("datacloud", "obtained a core Salesforce token for " + endpoint->origin.authority());
    co_return std::string(token->get_string());
}

coro::awaitable<outcome<tenant_token>> datacloud_client::exchange(const std::string& core_token)
{
    auto endpoint = parse_login_url(settings_.cdp_url);
    if (!endpoint)
    {
        co_return endpoint.error();
    }
    const auto request = form_post(
        endpoint->base_path + "/services/a360/token",
        form_encode({
            {"grant_type", "urn:salesforce:grant-type:external:cdp"},
            {"subject_token", core_token},
            {"subject_token_type", "urn:ietf:params:oauth:token-type:access_token"},
        })
    );
    coro::request_options options;
    options.body_limit = max_response_bytes;
    options.timeout = settings_.request_timeout;

    auto response = co_await http_.send(endpoint->origin, request, options);
    if (!response)
    {
        co_return transport_failure("datacloud.exchange_", response.error());
    }
    if (response->status == 400 || response->status == 401 || response->status == 403)
    {
        co_return failure{
            "datacloud.exchange_rejected",
            "the Data Cloud token exchange rejected the core token (HTTP " +
                std::to_string(response->status) +
                "): the connected app of claimData.cdpConfig.client_id needs the cdp_ingest_api and api "
                "scopes",
            false};
    }
    if (response->status != 200)
    {
        failure error{
            "datacloud.exchange_http_" + std::to_string(response->status),
            "the Data Cloud token exchange returned HTTP " + std::to_string(response->status),
            response->status == 429 || response->status >= 500};
        if (auto header = response->header("Retry-After"))
        {
            error.retry_after = parse_retry_after(*header, std::chrono::system_clock::now());
        }
        co_return error;
    }
    auto token = parse_tenant_token(response->body, std::chrono::steady_clock::now());
    if (!token)
    {
        co_return token.error();
    }
    ++exchanges_done_;
    log::info("datacloud", "obtained a Data Cloud token for tenant " + token->tenant.authority());
    co_return std::move(*token);
}

coro::awaitable<outcome<tenant_token>> datacloud_client::current_token(
    const std::optional<std::string>& rejected
)
{
    // One renewal at a time. A caller whose rejected token another caller has already replaced
    // uses the new token instead of renewing again.
    auto lock = co_await token_lock_.acquire();
    const auto now = std::chrono::steady_clock::now();
    if (tenant_token_ && tenant_token_->access_token != rejected && now < tenant_token_->renew_at)
    {
        co_return *tenant_token_;
    }
    tenant_token_.reset();

    // A cached core token is exchanged again first. When the exchange rejects it (the core
    // session expired), a new core token is requested and exchanged once.
    if (core_token_)
    {
        auto token = co_await exchange(*core_token_);
        if (token)
        {
            tenant_token_ = *token;
            co_return std::move(*token);
        }
        if (token.error().error_class != "datacloud.exchange_rejected")
        {
            co_return token.error();
        }
        log::notice("datacloud", "the token exchange rejected the cached core token; requesting a new one");
        core_token_.reset();
    }
    auto core = co_await request_core_token();
    if (!core)
    {
        co_return core.error();
    }
    core_token_ = std::move(*core);
    auto token = co_await exchange(*core_token_);
    if (!token)
    {
        co_return token.error();
    }
    tenant_token_ = *token;
    co_return std::move(*token);
}

coro::awaitable<outcome<void>> datacloud_client::ingest(
    const std::string& object_name, const std::string& body
)
{
    coro::http_request request;
    request.method = "POST";
    request.target = "/api/v1/ingest/sources/" + percent_encode(settings_.claim_data_source_api) + "/" +
                     percent_encode(object_name);
    request.headers = {
        {"Content-Type", "application/json"},
        {"Accept", "application/json"},
        {"Authorization", ""},
    };
    request.body = body;
    coro::request_options options;
    options.body_limit = max_response_bytes;
    options.timeout = settings_.request_timeout;

    std::optional<std::string> rejected;
    for (int attempt = 0; attempt < 2; ++attempt)
    {
        auto token = co_await current_token(rejected);
        if (!token)
        {
            co_return token.error();
        }
        request.headers.back().second = "Bearer " + token->access_token;
        auto response = co_await http_.send(token->tenant, request, options);
        if (!response)
        {
            co_return transport_failure("datacloud.", response.error());
        }
        if (response->status == 401 && attempt == 0)
        {
            log::notice("datacloud", "the tenant rejected the Data Cloud token (HTTP 401); renewing it once");
            rejected = token->access_token;
            continue;
        }
        if (response->status >= 200 && response->status < 300)
        {
            co_return outcome<void>{};
        }
        if (response->status == 401)
        {
            break;
        }
        failure error{
            "datacloud.http_" + std::to_string(response->status),
            "the Data Cloud Ingestion API returned HTTP " + std::to_string(response->status) +
                " for object " + object_name,
            response->status == 429 || response->status >= 500};
        if (auto header = response->header("Retry-After"))
        {
            error.retry_after = parse_retry_after(*header, std::chrono::system_clock::now());
        }
        co_return error;
    }
    co_return failure{
        datacloud_errors::unauthorized,
        "the Data Cloud tenant rejected a freshly issued token (HTTP 401)",
        false};
}

}  // namespace bbsync

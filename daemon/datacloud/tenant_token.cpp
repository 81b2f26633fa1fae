#include "daemon/datacloud/tenant_token.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace json = boost::json;

namespace bbsync {
namespace {

constexpr const char* bad_response = "datacloud.exchange_bad_response";

// Reads expires_in as seconds, from a JSON number or a numeric string. Returns 0 when it is
// absent or not a positive finite number.
double expires_in_seconds(const json::object& object)
{
    const auto* value = object.if_contains("expires_in");
    if (value == nullptr)
    {
        return 0;
    }
    double seconds = 0;
    if (value->is_number())
    {
        seconds = value->to_number<double>();
    }
    else if (value->is_string())
    {
        const auto& text = value->get_string();
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec != std::errc() || end != text.data() + text.size())
        {
            return 0;
        }
    }
    if (!std::isfinite(seconds) || seconds <= 0)
    {
        return 0;
    }
    // A lifetime beyond a year is taken as a year, so that the conversion to milliseconds cannot overflow.
    return std::min(seconds, 365.0 * 86400);
}

}  // namespace

std::chrono::milliseconds tenant_token_renewal_margin(std::chrono::milliseconds lifetime) noexcept
{
    constexpr std::chrono::milliseconds margin = std::chrono::seconds(60);
    return lifetime > 2 * margin ? margin : lifetime / 2;
}

outcome<coro::https_origin> parse_tenant_origin(std::string_view instance_url)
{
    if (instance_url.empty())
    {
        return failure{bad_response, "the Data Cloud token response has an empty instance_url", false};
    }
    std::string url(instance_url);
    if (url.find("://") == std::string::npos)
    {
        url = "https://" + url;
    }
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->host().empty())
    {
        return failure{bad_response, "the Data Cloud token response has an invalid instance_url", false};
    }
    if (parsed->scheme() != "https")
    {
        return failure{
            bad_response,
            "the Data Cloud instance_url uses scheme " + std::string(parsed->scheme()) +
                "; bbsync sends tokens over https only",
            false};
    }
    if (parsed->has_port() && parsed->port_number() == 0)
    {
        return failure{bad_response, "the Data Cloud instance_url has an invalid port", false};
    }
    // An IPv6 literal comes back bracketed from host(); the origin stores the bare address.
    std::string host(parsed->encoded_host_address());
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    {
        host = host.substr(1, host.size() - 2);
    }
    return coro::https_origin{host, parsed->has_port() ? parsed->port_number() : std::uint16_t(443)};
}

outcome<tenant_token> parse_tenant_token(
    std::string_view body, std::chrono::steady_clock::time_point received_at
)
{
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    const auto* object = ec ? nullptr : parsed.if_object();
    if (object == nullptr)
    {
        return failure{bad_response, "the Data Cloud token response is not a JSON object", false};
    }
    const auto* token = object->if_contains("access_token");
    if (token == nullptr || !token->is_string() || token->get_string().empty())
    {
        return failure{bad_response, "the Data Cloud token response has no access_token", false};
    }
    const auto* instance = object->if_contains("instance_url");
    if (instance == nullptr || !instance->is_string())
    {
        return failure{bad_response, "the Data Cloud token response has no instance_url", false};
    }
    auto tenant = parse_tenant_origin(instance->get_string());
    if (!tenant)
    {
        return tenant.error();
    }

    const double seconds = expires_in_seconds(*object);
    const auto lifetime = seconds > 0 ? std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000))
                                      : std::chrono::milliseconds(default_tenant_token_lifetime);
    tenant_token result;
    result.access_token = std::string(token->get_string());
    result.tenant = std::move(*tenant);
    result.renew_at = received_at + lifetime - tenant_token_renewal_margin(lifetime);
    return result;
}

}  // namespace bbsync

#include "sandbox/request_parsing.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/predicate.hpp>
#include <boost/algorithm/string/trim.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>

#include <openssl/evp.h>

#include <cctype>
#include <charconv>

namespace bbsync::sandbox {
namespace {

namespace urls = boost::urls;

// Decodes text whose percent escapes parse_query has already validated.
std::string percent_decode(std::string_view text, bool space_as_plus)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i)
    {
        const char c = text[i];
        if (c == '%' && i + 2 < text.size())
        {
            const auto hex = [](char digit) {
                return digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10;
            };
            out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
            i += 2;
        }
        else
            out += space_as_plus && c == '+' ? ' ' : c;
    }
    return out;
}

std::optional<std::vector<query_param>> decode_params(std::string_view encoded, bool space_as_plus)
{
    std::vector<query_param> params;
    if (encoded.empty())
        return params;
    const auto parsed = urls::parse_query(urls::string_view(encoded.data(), encoded.size()));
    if (!parsed)
        return std::nullopt;
    for (const auto& param : *parsed)
        params.push_back(
            {percent_decode(param.key, space_as_plus), percent_decode(param.value, space_as_plus)}
        );
    return params;
}

// Percent-encodes characters that RFC 3986 does not allow in a path or query but that
// clients send unencoded anyway, such as the "|" of FHIR token searches.
std::string encode_lenient(std::string_view text)
{
    static constexpr std::string_view allowed = "-._~!$&'()*+,;=:@/?%";
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text)
    {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x80 && std::isalnum(byte) != 0) || allowed.find(c) != std::string_view::npos)
            out += c;
        else
        {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 15];
        }
    }
    return out;
}

}  // namespace

std::optional<request_target> parse_target(std::string_view raw_target)
{
    const std::string target = encode_lenient(raw_target);
    const auto url = urls::parse_origin_form(urls::string_view(target.data(), target.size()));
    if (!url)
        return std::nullopt;
    request_target result;
    result.path = std::string(url->path());
    result.encoded_query = std::string(url->encoded_query());
    auto params = decode_params(result.encoded_query, false);
    if (!params)
        return std::nullopt;
    result.params = std::move(*params);
    return result;
}

std::optional<std::vector<query_param>> parse_form(std::string_view body)
{
    return decode_params(body, true);
}

std::optional<std::string> find_param(const std::vector<query_param>& params, std::string_view key)
{
    for (const auto& param : params)
    {
        if (param.key == key)
            return param.value;
    }
    return std::nullopt;
}

std::optional<std::string> bearer_token(const http_request& request)
{
    const auto header = request[boost::beast::http::field::authorization];
    const std::string_view value(header.data(), header.size());
    if (value.size() <= 7 || !boost::algorithm::istarts_with(value, "Bearer "))
        return std::nullopt;
    std::string token(value.substr(7));
    boost::algorithm::trim(token);
    if (token.empty())
        return std::nullopt;
    return token;
}

std::optional<std::pair<std::string, std::string>> basic_credentials(const http_request& request)
{
    const auto header = request[boost::beast::http::field::authorization];
    const std::string_view value(header.data(), header.size());
    if (value.size() <= 6 || !boost::algorithm::istarts_with(value, "Basic "))
        return std::nullopt;
    std::string encoded(value.substr(6));
    boost::algorithm::trim(encoded);
    if (encoded.empty() || encoded.size() % 4 != 0)
        return std::nullopt;

    // EVP_DecodeBlock counts padding as zero bytes, so drop one output byte per '='.
    std::string decoded(encoded.size() / 4 * 3, '\0');
    const int length = EVP_DecodeBlock(
        reinterpret_cast<unsigned char*>(decoded.data()),
        reinterpret_cast<const unsigned char*>(encoded.data()),
        static_cast<int>(encoded.size())
    );
    if (length < 0)
        return std::nullopt;
    std::size_t padding = 0;
    for (auto it = encoded.rbegin(); it != encoded.rend() && *it == '='; ++it)
        ++padding;
    decoded.resize(static_cast<std::size_t>(length) - padding);

    const auto colon = decoded.find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    // Client ids and secrets are form-urlencoded before Basic encoding (RFC 6749 section 2.3.1).
    auto id = parse_form("x=" + decoded.substr(0, colon));
    auto secret = parse_form("x=" + decoded.substr(colon + 1));
    if (!id || !secret || id->size() != 1 || secret->size() != 1)
        return std::nullopt;
    return std::pair{id->front().value, secret->front().value};
}

std::string media_type(const http_request& request)
{
    const auto header = request[boost::beast::http::field::content_type];
    std::string value(header.data(), header.size());
    if (const auto semicolon = value.find(';'); semicolon != std::string::npos)
        value.resize(semicolon);
    boost::algorithm::trim(value);
    boost::algorithm::to_lower(value);
    return value;
}

std::optional<int> parse_int(std::string_view text)
{
    int value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end)
        return std::nullopt;
    return value;
}

std::vector<std::string> if_none_exist_values(std::string_view body)
{
    constexpr std::string_view key = "\"ifNoneExist\"";
    const auto skip_space = [&](std::size_t at) {
        while (at < body.size() &&
               (body[at] == ' ' || body[at] == '\t' || body[at] == '\n' || body[at] == '\r'))
            ++at;
        return at;
    };
    std::vector<std::string> values;
    for (auto found = body.find(key); found != std::string_view::npos; found = body.find(key, found + 1))
    {
        auto at = skip_space(found + key.size());
        if (at >= body.size() || body[at] != ':')
            continue;
        at = skip_space(at + 1);
        if (at >= body.size() || body[at] != '"')
            continue;
        const auto start = ++at;
        while (at < body.size() && body[at] != '"')
            at += body[at] == '\\' ? 2 : 1;
        if (at < body.size())
            values.emplace_back(body.substr(start, at - start));
    }
    return values;
}

}  // namespace bbsync::sandbox

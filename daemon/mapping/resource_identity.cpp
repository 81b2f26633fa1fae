#include "daemon/mapping/resource_identity.hpp"

#include <array>
#include <cstdint>

#include "daemon/mapping/sha1.hpp"

namespace bbsync::mapping {
namespace {

// RFC 4122 appendix C name space for URLs, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
constexpr std::array<std::uint8_t, 16> url_namespace{
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

constexpr std::string_view lower_hex = "0123456789abcdef";
constexpr std::string_view upper_hex = "0123456789ABCDEF";

bool is_kept_literally(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == ':' || c == '/';
}

void append_search_token_part(std::string& out, std::string_view text)
{
    for (const char c : text)
    {
        if (c == '\\' || c == '|' || c == ',' || c == '$')
        {
            out += "%5C";
        }
        if (is_kept_literally(c))
        {
            out += c;
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        out += '%';
        out += upper_hex[byte >> 4];
        out += upper_hex[byte & 0x0F];
    }
}

}  // namespace

std::string make_full_url(std::string_view resource_type, std::string_view system, std::string_view value)
{
    std::string name(url_namespace.begin(), url_namespace.end());
    name += resource_type;
    name += '|';
    name += system;
    name += '|';
    name += value;
    auto digest = sha1(name);

    // Version 5 in the high nibble of byte 6, RFC 4122 variant in the top bits of byte 8.
    digest[6] = static_cast<std::uint8_t>((digest[6] & 0x0F) | 0x50);
    digest[8] = static_cast<std::uint8_t>((digest[8] & 0x3F) | 0x80);

    std::string url = "urn:uuid:";
    for (std::size_t i = 0; i < 16; ++i)
    {
        if (i == 4 || i == 6 || i == 8 || i == 10)
        {
            url += '-';
        }
        url += lower_hex[digest[i] >> 4];
        url += lower_hex[digest[i] & 0x0F];
    }
    return url;
}

std::string make_if_none_exist(std::string_view system, std::string_view value)
{
    std::string query = "identifier=";
    append_search_token_part(query, system);
    query += '|';
    append_search_token_part(query, value);
    return query;
}

}  // namespace bbsync::mapping

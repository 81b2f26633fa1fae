#include "daemon/common/text.hpp"

namespace bbsync {
namespace {

bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

std::size_t count_code_points(std::string_view text)
{
    std::size_t count = 0;
    for (unsigned char c : text)
    {
        if ((c & 0xC0) != 0x80)
        {
            ++count;
        }
    }
    return count;
}

}  // namespace

std::string percent_encode(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string encoded;
    encoded.reserve(text.size());
    for (unsigned char c : text)
    {
        if (is_unreserved(c))
        {
            encoded.push_back(static_cast<char>(c));
        }
        else
        {
            encoded.push_back('%');
            encoded.push_back(hex[c >> 4]);
            encoded.push_back(hex[c & 0x0F]);
        }
    }
    return encoded;
}

std::string form_encode(std::initializer_list<std::pair<std::string_view, std::string_view>> fields)
{
    std::string body;
    for (const auto& [name, value] : fields)
    {
        if (!body.empty())
        {
            body.push_back('&');
        }
        body += percent_encode(name);
        body.push_back('=');
        body += percent_encode(value);
    }
    return body;
}

std::string truncate_utf8(std::string_view text, std::size_t max_chars, std::string_view marker)
{
    if (count_code_points(text) <= max_chars)
    {
        return std::string(text);
    }
    const std::size_t marker_chars = count_code_points(marker);
    const std::size_t keep = max_chars > marker_chars ? max_chars - marker_chars : 0;

    // Walk `keep` code points; a code point starts at every byte that is not 10xxxxxx.
    std::size_t seen = 0;
    std::size_t cut = 0;
    for (; cut < text.size(); ++cut)
    {
        if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80)
        {
            if (seen == keep)
            {
                break;
            }
            ++seen;
        }
    }
    std::string result(text.substr(0, cut));
    if (max_chars >= marker_chars)
    {
        result += marker;
    }
    return result;
}

}  // namespace bbsync

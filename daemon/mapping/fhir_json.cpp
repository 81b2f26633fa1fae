#include "daemon/mapping/fhir_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_stack.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include "daemon/mapping/fhir_json_error.hpp"

namespace bbsync::mapping {
namespace {

namespace json = boost::json;
using boost::system::error_code;

// Returns the offset of the first byte that breaks UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or text.size() when the whole text is valid.
std::size_t find_invalid_utf8(std::string_view text) noexcept
{
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t size = text.size();
    std::size_t i = 0;
    while (i < size)
    {
        const unsigned char lead = bytes[i];
        if (lead < 0x80)
        {
            ++i;
            continue;
        }
        std::size_t length = 0;
        unsigned char min_second = 0x80;
        unsigned char max_second = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF)
        {
            length = 2;
        }
        else if (lead >= 0xE0 && lead <= 0xEF)
        {
            length = 3;
            min_second = lead == 0xE0 ? 0xA0 : 0x80;  // overlong
            max_second = lead == 0xED ? 0x9F : 0xBF;  // UTF-16 surrogates
        }
        else if (lead >= 0xF0 && lead <= 0xF4)
        {
            length = 4;
            min_second = lead == 0xF0 ? 0x90 : 0x80;  // overlong
            max_second = lead == 0xF4 ? 0x8F : 0xBF;  // above U+10FFFF
        }
        else
        {
            return i;
        }
        if (size - i < length || bytes[i + 1] < min_second || bytes[i + 1] > max_second)
        {
            return i;
        }
        for (std::size_t k = 2; k < length; ++k)
        {
            if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF)
            {
                return i;
            }
        }
        i += length;
    }
    return size;
}

// Writes the shortest text that std::from_chars reads back as the same double. Returns its length.
std::size_t format_double(double number, std::array<char, 32>& buffer) noexcept
{
    const auto written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
    return static_cast<std::size_t>(written.ptr - buffer.data());
}

// basic_parser handler that builds a json::value like boost::json::parser does, except that numbers
// whose decoded form would not serialize back to the same text are kept as text.
class exact_number_handler
{
public:
    static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();

    explicit exact_number_handler(json::storage_ptr storage) : storage_(std::move(storage)) {}

    json::value release() { return stack_.release(); }

    bool on_document_begin(error_code&)
    {
        stack_.reset(storage_);
        return true;
    }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t n, error_code&)
    {
        stack_.push_array(n);
        return true;
    }
    bool on_object_begin(error_code&) { return true; }
    bool on_object_end(std::size_t n, error_code&)
    {
        stack_.push_object(n);
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, error_code&)
    {
        stack_.push_chars(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, error_code&)
    {
        stack_.push_string(s);
        return true;
    }
    bool on_key_part(json::string_view s, std::size_t, error_code&)
    {
        stack_.push_chars(s);
        return true;
    }
    bool on_key(json::string_view s, std::size_t, error_code&)
    {
        stack_.push_key(s);
        return true;
    }
    bool on_number_part(json::string_view s, error_code&)
    {
        number_text_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, json::string_view s, error_code&)
    {
        const std::string_view text = complete_number(s);
        // "-0" decodes to 0, which would be written back as "0".
        if (i == 0 && text.size() > 1)
        {
            push_kept(text);
        }
        else
        {
            stack_.push_int64(i);
        }
        number_text_.clear();
        return true;
    }
    bool on_uint64(std::uint64_t u, json::string_view, error_code&)
    {
        stack_.push_uint64(u);
        number_text_.clear();
        return true;
    }
    bool on_double(double d, json::string_view s, error_code&)
    {
        const std::string_view text = complete_number(s);
        std::array<char, 32> buffer{};
        const std::size_t length = format_double(d, buffer);
        if (std::isfinite(d) && std::string_view(buffer.data(), length) == text)
        {
            stack_.push_double(d);
        }
        else
        {
            push_kept(text);
        }
        number_text_.clear();
        return true;
    }
    bool on_bool(bool b, error_code&)
    {
        stack_.push_bool(b);
        return true;
    }
    bool on_null(error_code&)
    {
        stack_.push_null();
        return true;
    }
    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }

private:
    // Returns the whole number text: the parts seen so far followed by the last part.
    std::string_view complete_number(json::string_view last)
    {
        if (number_text_.empty())
        {
            return {last.data(), last.size()};
        }
        number_text_.append(last.data(), last.size());
        return number_text_;
    }

    void push_kept(std::string_view text)
    {
        const char prefix = kept_number_prefix;
        stack_.push_chars(json::string_view(&prefix, 1));
        stack_.push_string(json::string_view(text.data(), text.size()));
    }

    json::storage_ptr storage_;
    json::value_stack stack_;
    std::string number_text_;
};

void append_escaped(std::string& out, std::string_view text)
{
    static constexpr char hex_digits[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t plain_start = 0;
    for (std::size_t i = 0; i < text.size(); ++i)
    {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte != '"' && byte != '\\')
        {
            continue;
        }
        out.append(text.substr(plain_start, i - plain_start));
        plain_start = i + 1;
        switch (byte)
        {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
            out.append("\\u00");
            out.push_back(hex_digits[byte >> 4]);
            out.push_back(hex_digits[byte & 0x0F]);
        }
    }
    out.append(text.substr(plain_start));
    out.push_back('"');
}

void append_double(std::string& out, double number)
{
    if (std::isnan(number))
    {
        out.append("null");
        return;
    }
    if (std::isinf(number))
    {
        out.append(number < 0 ? "-1e99999" : "1e99999");
        return;
    }
    std::array<char, 32> buffer{};
    out.append(buffer.data(), format_double(number, buffer));
}

void append_object(std::string& out, const json::object& object);

void append_value(std::string& out, const json::value& value)
{
    switch (value.kind())
    {
    case json::kind::null: out.append("null"); break;
    case json::kind::bool_: out.append(value.get_bool() ? "true" : "false"); break;
    case json::kind::int64:
    case json::kind::uint64:
    {
        std::array<char, 24> buffer{};
        const auto written =
            value.is_int64()
                ? std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.get_int64())
                : std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.get_uint64());
        out.append(buffer.data(), written.ptr);
        break;
    }
    case json::kind::double_: append_double(out, value.get_double()); break;
    case json::kind::string:
    {
        const json::string& text = value.get_string();
        if (auto number = kept_number_text(value))
        {
            out.append(*number);
        }
        else
        {
            append_escaped(out, std::string_view(text.data(), text.size()));
        }
        break;
    }
    case json::kind::array:
    {
        out.push_back('[');
        bool first = true;
        for (const json::value& element : value.get_array())
        {
            if (!first)
            {
                out.push_back(',');
            }
            first = false;
            append_value(out, element);
        }
        out.push_back(']');
        break;
    }
    case json::kind::object: append_object(out, value.get_object()); break;
    }
}

void append_object(std::string& out, const json::object& object)
{
    out.push_back('{');
    bool first = true;
    for (const json::key_value_pair& member : object)
    {
        if (!first)
        {
            out.push_back(',');
        }
        first = false;
        append_escaped(out, std::string_view(member.key().data(), member.key().size()));
        out.push_back(':');
        append_value(out, member.value());
    }
    out.push_back('}');
}

}  // namespace

boost::system::result<json::value> parse_fhir_json(
    std::string_view text, const parse_limits& limits, json::storage_ptr storage
)
{
    if (text.size() > limits.max_bytes)
    {
        return make_error_code(fhir_json_errc::too_large);
    }
    if (find_invalid_utf8(text) != text.size())
    {
        return make_error_code(fhir_json_errc::invalid_utf8);
    }

    json::parse_options options;
    options.max_depth = limits.max_depth;
    // UTF-8 was checked above for the whole text, which covers every string and key.
    options.allow_invalid_utf8 = true;
    json::basic_parser<exact_number_handler> parser(options, std::move(storage));

    error_code ec;
    const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && consumed < text.size())
    {
        ec = json::error::extra_data;
    }
    if (ec == json::error::too_deep)
    {
        return make_error_code(fhir_json_errc::too_deep);
    }
    if (ec)
    {
        return ec;
    }
    return parser.handler().release();
}

std::string serialize_fhir_json(const json::value& value)
{
    std::string out;
    append_value(out, value);
    return out;
}

std::string serialize_fhir_json(const json::object& object)
{
    std::string out;
    append_object(out, object);
    return out;
}

void append_fhir_json(std::string& out, const json::value& value) { append_value(out, value); }

void append_fhir_json(std::string& out, const json::object& object) { append_object(out, object); }

void append_json_string(std::string& out, std::string_view text) { append_escaped(out, text); }

std::optional<json::value> make_kept_number(std::string_view text)
{
    if (!is_json_number_text(text))
    {
        return std::nullopt;
    }
    json::string kept;
    kept.reserve(text.size() + 1);
    kept.push_back(kept_number_prefix);
    kept.append(json::string_view(text.data(), text.size()));
    return json::value(std::move(kept));
}

std::optional<std::string_view> kept_number_text(const json::value& value) noexcept
{
    const json::string* text = value.if_string();
    if (text == nullptr || text->empty() || text->front() != kept_number_prefix)
    {
        return std::nullopt;
    }
    const std::string_view number(text->data() + 1, text->size() - 1);
    if (!is_json_number_text(number))
    {
        return std::nullopt;
    }
    return number;
}

bool is_json_number(const json::value& value) noexcept
{
    return value.is_number() || kept_number_text(value).has_value();
}

bool is_json_number_text(std::string_view text) noexcept
{
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9')
        {
            ++i;
        }
        return i - start;
    };

    if (i < text.size() && text[i] == '-')
    {
        ++i;
    }
    if (i < text.size() && text[i] == '0')
    {
        ++i;
    }
    else if (i >= text.size() || text[i] < '1' || text[i] > '9' || digits() == 0)
    {
        return false;
    }
    if (i < text.size() && text[i] == '.')
    {
        ++i;
        if (digits() == 0)
        {
            return false;
        }
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E'))
    {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-'))
        {
            ++i;
        }
        if (digits() == 0)
        {
            return false;
        }
    }
    return i == text.size();
}

}  // namespace bbsync::mapping

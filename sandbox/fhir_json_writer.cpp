#include "sandbox/fhir_json_writer.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>

namespace bbsync::sandbox {
namespace {

namespace json = boost::json;

void write_double(double number, bool money, std::string& out)
{
    char buffer[64];
    if (money)
    {
        const int length = std::snprintf(buffer, sizeof buffer, "%.2f", number);
        out.append(buffer, static_cast<std::size_t>(length));
        return;
    }
    // Shortest round-trip text in fixed notation; integral values keep a ".0" so that the
    // number still reads as a FHIR decimal.
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::fixed);
    if (ec != std::errc{})
    {
        out += json::serialize(json::value(number));
        return;
    }
    out.append(buffer, end);
    if (std::string_view(buffer, static_cast<std::size_t>(end - buffer)).find('.') ==
            std::string_view::npos &&
        std::isfinite(number))
        out += ".0";
}

void write_value(const json::value& value, bool money_value, std::string& out)
{
    switch (value.kind())
    {
    case json::kind::object:
    {
        const auto& object = value.get_object();
        const bool is_money = object.contains("currency");
        out += '{';
        bool first = true;
        for (const auto& member : object)
        {
            if (!first)
                out += ',';
            first = false;
            out += json::serialize(json::string_view(member.key()));
            out += ':';
            write_value(member.value(), is_money && member.key() == "value", out);
        }
        out += '}';
        break;
    }
    case json::kind::array:
    {
        out += '[';
        bool first = true;
        for (const auto& element : value.get_array())
        {
            if (!first)
                out += ',';
            first = false;
            write_value(element, false, out);
        }
        out += ']';
        break;
    }
    case json::kind::double_: write_double(value.get_double(), money_value, out); break;
    case json::kind::int64:
        if (money_value)
            write_double(static_cast<double>(value.get_int64()), true, out);
        else
            out += json::serialize(value);
        break;
    case json::kind::uint64:
        if (money_value)
            write_double(static_cast<double>(value.get_uint64()), true, out);
        else
            out += json::serialize(value);
        break;
    default: out += json::serialize(value); break;
    }
}

}  // namespace

void write_fhir_json(const json::value& value, std::string& out) { write_value(value, false, out); }

std::string to_fhir_json(const json::value& value)
{
    std::string out;
    write_fhir_json(value, out);
    return out;
}

}  // namespace bbsync::sandbox

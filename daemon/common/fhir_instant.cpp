#include "daemon/common/fhir_instant.hpp"

#include <cctype>

namespace bbsync {
namespace {

bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, int& out)
{
    if (pos + count > text.size())
    {
        return false;
    }
    int value = 0;
    for (std::size_t i = 0; i < count; ++i)
    {
        const char c = text[pos + i];
        if (!std::isdigit(static_cast<unsigned char>(c)))
        {
            return false;
        }
        value = value * 10 + (c - '0');
    }
    pos += count;
    out = value;
    return true;
}

bool expect(std::string_view text, std::size_t& pos, char c)
{
    if (pos < text.size() && text[pos] == c)
    {
        ++pos;
        return true;
    }
    return false;
}

}  // namespace

std::optional<instant> parse_fhir_instant(std::string_view text)
{
    using namespace std::chrono;
    std::size_t pos = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') || !read_digits(text, pos, 2, month) ||
        !expect(text, pos, '-') || !read_digits(text, pos, 2, day) || !expect(text, pos, 'T') ||
        !read_digits(text, pos, 2, hour) || !expect(text, pos, ':') || !read_digits(text, pos, 2, minute) ||
        !expect(text, pos, ':') || !read_digits(text, pos, 2, second))
    {
        return std::nullopt;
    }

    // Optional fraction, kept to microseconds.
    long micros = 0;
    if (expect(text, pos, '.'))
    {
        int digits = 0;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
        {
            if (digits < 6)
            {
                micros = micros * 10 + (text[pos] - '0');
            }
            ++digits;
            ++pos;
        }
        if (digits == 0 || digits > 9)
        {
            return std::nullopt;
        }
        for (int i = digits; i < 6; ++i)
        {
            micros *= 10;
        }
    }

    // Offset: "Z" or "+hh:mm" / "-hh:mm".
    int offset_minutes = 0;
    if (expect(text, pos, 'Z'))
    {}
    else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
    {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        int offset_hour = 0, offset_minute = 0;
        if (!read_digits(text, pos, 2, offset_hour) || !expect(text, pos, ':') ||
            !read_digits(text, pos, 2, offset_minute) || offset_hour > 23 || offset_minute > 59)
        {
            return std::nullopt;
        }
        offset_minutes = sign * (offset_hour * 60 + offset_minute);
    }
    else
    {
        return std::nullopt;
    }
    if (pos != text.size())
    {
        return std::nullopt;
    }

    const year_month_day date{
        std::chrono::year(year),
        std::chrono::month(static_cast<unsigned>(month)),
        std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60)
    {
        return std::nullopt;
    }
    auto result = time_point_cast<microseconds>(sys_days(date)) + hours(hour) + minutes(minute) +
                  seconds(second) + microseconds(micros) - minutes(offset_minutes);
    return result;
}

}  // namespace bbsync

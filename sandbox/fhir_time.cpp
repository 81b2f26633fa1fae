#include "sandbox/fhir_time.hpp"

#include <chrono>
#include <cstdio>

namespace bbsync::sandbox {
namespace {

struct civil_date
{
    int year;
    int month;
    int day;
};

// Inverse of days_from_civil, after Howard Hinnant's public-domain date algorithms.
civil_date civil_from_days(std::int64_t days)
{
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<int>(y + (m <= 2 ? 1 : 0)), static_cast<int>(m), static_cast<int>(d)};
}

bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out)
{
    if (pos + count > text.size())
        return false;
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i)
    {
        const char c = text[i];
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    out = value;
    return true;
}

int days_in_month(int year, int month)
{
    static constexpr int lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : lengths[month - 1];
}

}  // namespace

std::int64_t days_from_civil(int year, int month, int day)
{
    const std::int64_t y = year - (month <= 2 ? 1 : 0);
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned mp = static_cast<unsigned>(month > 2 ? month - 3 : month + 9);
    const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(day) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string format_date(std::int64_t days)
{
    const auto date = civil_from_days(days);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", date.year, date.month, date.day);
    return buffer;
}

std::optional<std::int64_t> parse_date(std::string_view text)
{
    int year = 0;
    int month = 0;
    int day = 0;
    if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !read_digits(text, 0, 4, year) ||
        !read_digits(text, 5, 2, month) || !read_digits(text, 8, 2, day))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return std::nullopt;
    return days_from_civil(year, month, day);
}

std::string format_instant(std::int64_t epoch_ms)
{
    const std::int64_t days = (epoch_ms >= 0 ? epoch_ms : epoch_ms - 86399999) / 86400000;
    const std::int64_t ms_of_day = epoch_ms - days * 86400000;
    const auto date = civil_from_days(days);
    char buffer[48];
    std::snprintf(
        buffer,
        sizeof buffer,
        "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00",
        date.year,
        date.month,
        date.day,
        static_cast<int>(ms_of_day / 3600000),
        static_cast<int>(ms_of_day / 60000 % 60),
        static_cast<int>(ms_of_day / 1000 % 60),
        static_cast<int>(ms_of_day % 1000)
    );
    return buffer;
}

std::string format_grant_expiration(std::int64_t epoch_ms)
{
    const std::int64_t days = epoch_ms / 86400000;
    const std::int64_t ms_of_day = epoch_ms - days * 86400000;
    const auto date = civil_from_days(days);
    char buffer[48];
    std::snprintf(
        buffer,
        sizeof buffer,
        "%04d-%02d-%02d %02d:%02d:%02dZ",
        date.year,
        date.month,
        date.day,
        static_cast<int>(ms_of_day / 3600000),
        static_cast<int>(ms_of_day / 60000 % 60),
        static_cast<int>(ms_of_day / 1000 % 60)
    );
    return buffer;
}

std::optional<std::int64_t> parse_instant_us(std::string_view text)
{
    const auto date = parse_date(text.substr(0, 10));
    if (!date)
        return std::nullopt;
    std::int64_t micros = *date * 86400000000;
    if (text.size() == 10)
        return micros;

    // Time of day: "Thh:mm", then optional ":ss" and an optional fraction.
    int hour = 0;
    int minute = 0;
    int second = 0;
    if (text[10] != 'T' || !read_digits(text, 11, 2, hour) || text.size() < 16 || text[13] != ':' ||
        !read_digits(text, 14, 2, minute) || hour > 23 || minute > 59)
        return std::nullopt;
    std::size_t pos = 16;
    if (pos < text.size() && text[pos] == ':')
    {
        if (!read_digits(text, pos + 1, 2, second) || second > 60)
            return std::nullopt;
        pos += 3;
        if (pos < text.size() && text[pos] == '.')
        {
            ++pos;
            std::int64_t scale = 100000;
            const std::size_t start = pos;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
            {
                micros += (text[pos] - '0') * scale;
                scale /= 10;
                ++pos;
            }
            if (pos == start || pos - start > 9)
                return std::nullopt;
        }
    }
    micros += ((hour * 60 + minute) * 60 + second) * std::int64_t{1000000};

    // Zone: none, "Z", or a numeric offset that is subtracted to get UTC.
    if (pos == text.size())
        return micros;
    if (text[pos] == 'Z' && pos + 1 == text.size())
        return micros;
    int offset_hours = 0;
    int offset_minutes = 0;
    if ((text[pos] != '+' && text[pos] != '-') || text.size() != pos + 6 || text[pos + 3] != ':' ||
        !read_digits(text, pos + 1, 2, offset_hours) || !read_digits(text, pos + 4, 2, offset_minutes) ||
        offset_hours > 14 || offset_minutes > 59)
        return std::nullopt;
    const std::int64_t offset = (offset_hours * 60 + offset_minutes) * std::int64_t{60000000};
    return text[pos] == '+' ? micros - offset : micros + offset;
}

std::int64_t now_epoch_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace bbsync::sandbox

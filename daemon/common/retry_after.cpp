#include "daemon/common/retry_after.hpp"

#include <array>
#include <charconv>

namespace bbsync {
namespace {

bool parse_number(std::string_view text, int& out)
{
    if (text.empty())
    {
        return false;
    }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now
)
{
    using namespace std::chrono;
    while (!value.empty() && value.front() == ' ')
    {
        value.remove_prefix(1);
    }
    while (!value.empty() && value.back() == ' ')
    {
        value.remove_suffix(1);
    }

    // delay-seconds
    int delay = 0;
    if (parse_number(value, delay))
    {
        return delay >= 0 ? std::optional<seconds>(seconds(delay)) : std::nullopt;
    }

    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", always 29 characters.
    if (value.size() != 29 || value[3] != ',' || value[4] != ' ' || value[7] != ' ' || value[11] != ' ' ||
        value[16] != ' ' || value[19] != ':' || value[22] != ':' || value.substr(25) != " GMT")
    {
        return std::nullopt;
    }
    static constexpr std::array<std::string_view, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    unsigned month = 0;
    while (month < months.size() && months[month] != value.substr(8, 3))
    {
        ++month;
    }
    int day = 0, year = 0, hour = 0, minute = 0, second = 0;
    if (month == months.size() || !parse_number(value.substr(5, 2), day) ||
        !parse_number(value.substr(12, 4), year) || !parse_number(value.substr(17, 2), hour) ||
        !parse_number(value.substr(20, 2), minute) || !parse_number(value.substr(23, 2), second))
    {
        return std::nullopt;
    }
    const year_month_day date{
        std::chrono::year(year), std::chrono::month(month + 1), std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60)
    {
        return std::nullopt;
    }
    const auto at = sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
    const auto wait = duration_cast<seconds>(at - now);
    return wait.count() > 0 ? wait : seconds(0);
}

}  // namespace bbsync

#include "daemon/mapping/fhir_checks.hpp"

#include <cstddef>

namespace bbsync::mapping {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view text) noexcept
{
    for (const char c : text)
    {
        if (!is_digit(c))
        {
            return false;
        }
    }
    return true;
}

int two_digit_value(std::string_view text, std::size_t pos) noexcept
{
    return (text[pos] - '0') * 10 + (text[pos + 1] - '0');
}

// Checks "hh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)".
bool is_time_with_zone(std::string_view text) noexcept
{
    if (text.size() < 9 || text[2] != ':' || text[5] != ':')
    {
        return false;
    }
    if (!all_digits(text.substr(0, 2)) || !all_digits(text.substr(3, 2)) || !all_digits(text.substr(6, 2)))
    {
        return false;
    }
    if (two_digit_value(text, 0) > 23 || two_digit_value(text, 3) > 59 || two_digit_value(text, 6) > 60)
    {
        return false;
    }
    std::string_view rest = text.substr(8);
    if (!rest.empty() && rest.front() == '.')
    {
        std::size_t digits = 1;
        while (digits < rest.size() && is_digit(rest[digits]))
        {
            ++digits;
        }
        if (digits == 1)
        {
            return false;
        }
        rest.remove_prefix(digits);
    }
    if (rest == "Z")
    {
        return true;
    }
    return rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
           all_digits(rest.substr(1, 2)) && all_digits(rest.substr(4, 2)) && two_digit_value(rest, 1) <= 14 &&
           two_digit_value(rest, 4) <= 59;
}

}  // namespace

bool is_fhir_id(std::string_view text) noexcept
{
    if (text.empty() || text.size() > 64)
    {
        return false;
    }
    for (const char c : text)
    {
        const bool allowed =
            is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '.';
        if (!allowed)
        {
            return false;
        }
    }
    return true;
}

bool is_fhir_date(std::string_view text) noexcept
{
    if (text.size() != 4 && text.size() != 7 && text.size() != 10)
    {
        return false;
    }
    if (!all_digits(text.substr(0, 4)))
    {
        return false;
    }
    if (text.size() >= 7)
    {
        if (text[4] != '-' || !all_digits(text.substr(5, 2)))
        {
            return false;
        }
        const int month = two_digit_value(text, 5);
        if (month < 1 || month > 12)
        {
            return false;
        }
    }
    if (text.size() == 10)
    {
        if (text[7] != '-' || !all_digits(text.substr(8, 2)))
        {
            return false;
        }
        const int day = two_digit_value(text, 8);
        if (day < 1 || day > 31)
        {
            return false;
        }
    }
    return true;
}

bool is_fhir_instant(std::string_view text) noexcept
{
    return text.size() > 11 && text[10] == 'T' && is_fhir_date(text.substr(0, 10)) &&
           is_time_with_zone(text.substr(11));
}

bool is_fhir_date_time(std::string_view text) noexcept { return is_fhir_date(text) || is_fhir_instant(text); }

bool is_valid_npi(std::string_view text) noexcept
{
    if (text.size() != 10 || !all_digits(text))
    {
        return false;
    }

    // Luhn over "80840" + nine digits: double every second digit from the right, starting with
    // the rightmost of the payload, because the check digit itself is not part of the sum.
    constexpr std::string_view health_prefix = "80840";
    int sum = 0;
    int position = 0;
    const auto add_digit = [&](char c) {
        int digit = c - '0';
        if (position % 2 == 0)
        {
            digit *= 2;
            if (digit > 9)
            {
                digit -= 9;
            }
        }
        sum += digit;
        ++position;
    };
    for (std::size_t i = 9; i-- > 0;)
    {
        add_digit(text[i]);
    }
    for (std::size_t i = health_prefix.size(); i-- > 0;)
    {
        add_digit(health_prefix[i]);
    }
    const int check_digit = (10 - sum % 10) % 10;
    return check_digit == text[9] - '0';
}

}  // namespace bbsync::mapping

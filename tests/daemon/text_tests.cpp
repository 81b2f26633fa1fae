#include <catch2/catch.hpp>

#include <cstddef>
#include <string>

#include "daemon/common/text.hpp"

using bbsync::form_encode;
using bbsync::percent_encode;
using bbsync::truncate_utf8;

namespace {

std::size_t code_points(const std::string& text)
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

// Whether the text is well-formed UTF-8 as far as lead and continuation bytes go.
bool is_whole_utf8(const std::string& text)
{
    std::size_t pending = 0;
    for (unsigned char c : text)
    {
        if ((c & 0xC0) == 0x80)
        {
            if (pending == 0)
            {
                return false;
            }
            --pending;
            continue;
        }
        if (pending != 0)
        {
            return false;
        }
        if (c >= 0xF0)
        {
            pending = 3;
        }
        else if (c >= 0xE0)
        {
            pending = 2;
        }
        else if (c >= 0x80)
        {
            pending = 1;
        }
    }
    return pending == 0;
}

std::string repeat(const std::string& piece, std::size_t times)
{
    std::string text;
    for (std::size_t i = 0; i < times; ++i)
    {
        text += piece;
    }
    return text;
}

}  // namespace

TEST_CASE("percent_encode escapes reserved characters", "[daemon]")
{
    CHECK(percent_encode("a+b&c=d") == "a%2Bb%26c%3Dd");
    CHECK(percent_encode("2024-01-02T03:04:05+00:00") == "2024-01-02T03%3A04%3A05%2B00%3A00");
    CHECK(percent_encode("a b/c?d#e%") == "a%20b%2Fc%3Fd%23e%25");
    CHECK(percent_encode("\xC3\xA9") == "%C3%A9");
}

TEST_CASE("percent_encode keeps unreserved characters", "[daemon]")
{
    CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(percent_encode("") == "");
}

TEST_CASE("form_encode joins encoded pairs", "[daemon]")
{
    CHECK(
        form_encode({{"grant_type", "refresh_token"}, {"refresh_token", "a+b&c=d"}}) ==
        "grant_type=refresh_token&refresh_token=a%2Bb%26c%3Dd"
    );
    CHECK(form_encode({{"a=b", "&"}}) == "a%3Db=%26");
    CHECK(form_encode({}) == "");
}

TEST_CASE("truncate_utf8 leaves short text untouched", "[daemon]")
{
    CHECK(truncate_utf8("short", 10) == "short");
    CHECK(truncate_utf8("exactly10!", 10) == "exactly10!");
    const std::string accented = repeat("\xC3\xA9", 10);  // 10 code points, 20 bytes
    CHECK(truncate_utf8(accented, 10) == accented);
}

TEST_CASE("truncate_utf8 cuts multibyte text on a code point boundary", "[daemon]")
{
    const std::string accented = repeat("\xC3\xA9", 10);
    const auto cut = truncate_utf8(accented, 4, "~");
    CHECK(cut == "\xC3\xA9\xC3\xA9\xC3\xA9~");
    CHECK(is_whole_utf8(cut));

    const std::string emoji = repeat("\xF0\x9F\x98\x80", 10);  // 4 bytes per code point
    const auto cut_emoji = truncate_utf8(emoji, 5, "~");
    CHECK(cut_emoji == repeat("\xF0\x9F\x98\x80", 4) + "~");
    CHECK(is_whole_utf8(cut_emoji));

    const std::string mixed = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // a, e-acute, euro, emoji, z
    for (std::size_t max = 1; max <= 5; ++max)
    {
        const auto result = truncate_utf8(mixed, max, "");
        INFO("max " << max);
        CHECK(is_whole_utf8(result));
        CHECK(code_points(result) == std::min<std::size_t>(max, 5));
    }
}

TEST_CASE("truncate_utf8 fills the maximum with the marker", "[daemon]")
{
    const std::string text = repeat("\xC3\xA9", 40);
    const auto cut = truncate_utf8(text, 20);
    CHECK(code_points(cut) == 20);
    CHECK(cut.size() >= 12);
    CHECK(cut.substr(cut.size() - 12) == " [truncated]");
    CHECK(cut.substr(0, 16) == repeat("\xC3\xA9", 8));
    CHECK(is_whole_utf8(cut));

    CHECK(truncate_utf8("abcdefghijkl", 11, "abcdefghijk") == "abcdefghijk");
}

#include "sandbox/deterministic_random.hpp"

#include <string_view>

namespace bbsync::sandbox {
namespace {

std::uint64_t splitmix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

std::uint64_t mix_hash(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d)
{
    std::uint64_t h = splitmix(a);
    h = splitmix(h ^ b);
    h = splitmix(h ^ c);
    return splitmix(h ^ d);
}

std::string random_text(std::size_t length, std::uint64_t a, std::uint64_t b, std::uint64_t c)
{
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string text;
    text.reserve(length);
    std::uint64_t state = mix_hash(a, b, c);
    for (std::size_t i = 0; i < length; ++i)
    {
        state = mix_hash(state, i);
        text += alphabet[state % alphabet.size()];
    }
    return text;
}

}  // namespace bbsync::sandbox

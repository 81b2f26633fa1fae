#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace bbsync::mapping {

// Computes the SHA-1 digest (FIPS 180-4) of the bytes of `data`. Used only to derive stable
// name-based UUIDs, never for security. Never throws.
std::array<std::uint8_t, 20> sha1(std::string_view data) noexcept;

}  // namespace bbsync::mapping

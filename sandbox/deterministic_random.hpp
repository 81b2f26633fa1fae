#ifndef BBSYNC_SANDBOX_DETERMINISTIC_RANDOM_HPP
#define BBSYNC_SANDBOX_DETERMINISTIC_RANDOM_HPP

#include <cstdint>
#include <string>

namespace bbsync::sandbox {

// Mixes the inputs into one well-distributed 64-bit value (SplitMix64 finalizer applied per
// input), so generated data depends only on the seed and the position it is generated for.
std::uint64_t mix_hash(std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0, std::uint64_t d = 0);

// Returns `length` characters from [A-Za-z0-9] derived from the inputs, for tokens and
// identifiers that must look random but be reproducible. Throws only std::bad_alloc.
std::string random_text(std::size_t length, std::uint64_t a, std::uint64_t b, std::uint64_t c);

}  // namespace bbsync::sandbox

#endif

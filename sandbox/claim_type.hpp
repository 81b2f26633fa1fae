#ifndef BBSYNC_SANDBOX_CLAIM_TYPE_HPP
#define BBSYNC_SANDBOX_CLAIM_TYPE_HPP

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bbsync::sandbox {

// The eight Blue Button claim types, in the order of the EOB templates.
enum class claim_type : std::uint8_t
{
    carrier,
    dme,
    hha,
    hospice,
    inpatient,
    outpatient,
    pde,
    snf,
};

inline constexpr std::size_t claim_type_count = 8;

inline constexpr std::array<std::string_view, claim_type_count> claim_type_names{
    "carrier",
    "dme",
    "hha",
    "hospice",
    "inpatient",
    "outpatient",
    "pde",
    "snf",
};

// Returns the lower-case name used in EOB ids and in the `type` search parameter.
constexpr std::string_view to_string(claim_type type)
{
    return claim_type_names[static_cast<std::size_t>(type)];
}

// Parses a claim type name, ignoring ASCII case. Returns nullopt for anything else.
std::optional<claim_type> parse_claim_type(std::string_view name);

}  // namespace bbsync::sandbox

#endif

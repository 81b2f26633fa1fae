#ifndef BBSYNC_SANDBOX_HOST_KIND_HPP
#define BBSYNC_SANDBOX_HOST_KIND_HPP

#include <array>
#include <cstddef>
#include <string_view>

namespace bbsync::sandbox {

// The four emulated services, each on its own port.
enum class host_kind
{
    payer,
    salesforce,
    healthcloud,
    datacloud,
};

inline constexpr std::size_t host_count = 4;

inline constexpr std::array<host_kind, host_count> all_hosts{
    host_kind::payer,
    host_kind::salesforce,
    host_kind::healthcloud,
    host_kind::datacloud,
};

// Returns the name used in sandbox.json and in the state document.
constexpr std::string_view to_string(host_kind host)
{
    switch (host)
    {
    case host_kind::payer: return "payer";
    case host_kind::salesforce: return "salesforce";
    case host_kind::healthcloud: return "healthcloud";
    case host_kind::datacloud: return "datacloud";
    }
    return "unknown";
}

}  // namespace bbsync::sandbox

#endif

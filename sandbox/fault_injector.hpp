#ifndef BBSYNC_SANDBOX_FAULT_INJECTOR_HPP
#define BBSYNC_SANDBOX_FAULT_INJECTOR_HPP

#include <boost/json/array.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sandbox/fault_spec.hpp"
#include "sandbox/host_kind.hpp"

namespace bbsync::sandbox {

// The faults that apply to one request, merged from every spec that fired. When two specs
// with the same action fire, the earlier spec's parameters win. Delays and latencies add up.
struct fault_plan
{
    // Returns the first fired spec with this action, or nullptr.
    const fault_spec* find(fault_action action) const;

    std::chrono::milliseconds delay{0};
    std::vector<fault_spec> fired;
};

// The active fault specs, with their per-spec match and apply counters. Decisions depend only
// on the seed, the spec's position and how many requests matched it before.
class fault_injector
{
public:
    fault_injector(std::uint64_t seed, std::vector<fault_spec> specs);

    // Replaces the specs and resets every counter.
    void replace(std::vector<fault_spec> specs);

    // Returns the plan for a request to `host` with this path (without query), counting a
    // match for every spec whose host and route fit and an application for every one that
    // fires. Throws only std::bad_alloc.
    fault_plan select(host_kind host, std::string_view path);

    // Returns [{"spec", "matched", "applied"}, ...] in spec order. Throws only std::bad_alloc.
    boost::json::array to_json() const;

private:
    struct active_spec
    {
        fault_spec spec;
        std::uint64_t matched = 0;
        std::uint64_t applied = 0;
    };

    std::uint64_t seed_;
    std::vector<active_spec> specs_;
};

}  // namespace bbsync::sandbox

#endif

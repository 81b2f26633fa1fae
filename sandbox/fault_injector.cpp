#include "sandbox/fault_injector.hpp"

#include <boost/json/object.hpp>

#include "sandbox/deterministic_random.hpp"

namespace bbsync::sandbox {
namespace {

// Returns a value in [0, 1) derived from the inputs.
double unit_interval(std::uint64_t seed, std::uint64_t position, std::uint64_t match, std::uint64_t salt)
{
    return static_cast<double>(mix_hash(seed, position, match, salt) >> 11) * 0x1.0p-53;
}

}  // namespace

const fault_spec* fault_plan::find(fault_action action) const
{
    for (const auto& spec : fired)
    {
        if (spec.action == action)
            return &spec;
    }
    return nullptr;
}

fault_injector::fault_injector(std::uint64_t seed, std::vector<fault_spec> specs) : seed_(seed)
{
    replace(std::move(specs));
}

void fault_injector::replace(std::vector<fault_spec> specs)
{
    specs_.clear();
    for (auto& spec : specs)
        specs_.push_back({std::move(spec), 0, 0});
}

fault_plan fault_injector::select(host_kind host, std::string_view path)
{
    fault_plan plan;
    for (std::size_t i = 0; i < specs_.size(); ++i)
    {
        auto& active = specs_[i];
        if (active.spec.host != host || !path.starts_with(active.spec.route))
            continue;
        const std::uint64_t match = ++active.matched;

        bool fires = true;
        switch (active.spec.selector)
        {
        case fault_selector::all: break;
        case fault_selector::every: fires = match % active.spec.count == 0; break;
        case fault_selector::first: fires = match <= active.spec.count; break;
        case fault_selector::probability:
            fires = unit_interval(seed_, i, match, 0x46) < active.spec.probability;
            break;
        }
        if (!fires)
            continue;
        ++active.applied;

        // Delays add up; a latency range draws its value from the seed too.
        if (active.spec.action == fault_action::delay)
            plan.delay += std::chrono::milliseconds(active.spec.min_ms);
        if (active.spec.action == fault_action::latency)
        {
            const auto span = static_cast<double>(active.spec.max_ms - active.spec.min_ms + 1);
            const auto extra = static_cast<std::int64_t>(unit_interval(seed_, i, match, 0x4C) * span);
            plan.delay += std::chrono::milliseconds(active.spec.min_ms + extra);
        }
        plan.fired.push_back(active.spec);
    }
    return plan;
}

boost::json::array fault_injector::to_json() const
{
    boost::json::array out;
    for (const auto& active : specs_)
        out.push_back(boost::json::object{
            {"spec", active.spec.text}, {"matched", active.matched}, {"applied", active.applied}});
    return out;
}

}  // namespace bbsync::sandbox

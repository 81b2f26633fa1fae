#include "sandbox/healthcloud_store.hpp"

#include <charconv>
#include <cstdio>

namespace bbsync::sandbox {
namespace {

// Three-character key prefixes, one per type, like Salesforce's object key prefixes.
constexpr std::array<std::string_view, healthcloud_resource_types.size()> id_prefixes{
    "0eS",
    "0cN",
    "0pR",
    "0mR",
    "0pT",
};

std::string make_id(std::size_t type, std::uint64_t ordinal)
{
    char buffer[32];
    std::snprintf(
        buffer,
        sizeof buffer,
        "%.3sSB%013llu",
        id_prefixes[type].data(),
        static_cast<unsigned long long>(ordinal)
    );
    return buffer;
}

}  // namespace

std::optional<std::size_t> healthcloud_store::type_index(std::string_view resource_type)
{
    for (std::size_t i = 0; i < healthcloud_resource_types.size(); ++i)
    {
        if (healthcloud_resource_types[i] == resource_type)
            return i;
    }
    return std::nullopt;
}

std::optional<std::string> healthcloud_store::find(std::size_t type, const std::string& identifier_key) const
{
    const auto found = by_identifier_[type].find(identifier_key);
    if (found == by_identifier_[type].end())
        return std::nullopt;
    return make_id(type, found->second);
}

std::string healthcloud_store::store(std::size_t type, const std::string& identifier_key)
{
    const auto ordinal = static_cast<std::uint32_t>(++counts_[type]);
    auto [it, inserted] = by_identifier_[type].try_emplace(identifier_key, ordinal);
    if (!inserted)
    {
        ++duplicates_[type];
        it->second = ordinal;
    }
    return make_id(type, ordinal);
}

bool healthcloud_store::contains_id(std::size_t type, std::string_view id) const
{
    if (id.size() != 18 || !id.starts_with(id_prefixes[type]) || id.substr(3, 2) != "SB")
        return false;
    std::uint64_t ordinal = 0;
    const auto [ptr, ec] = std::from_chars(id.data() + 5, id.data() + id.size(), ordinal);
    return ec == std::errc{} && ptr == id.data() + id.size() && ordinal >= 1 && ordinal <= counts_[type];
}

void healthcloud_store::keep_practitioner(const std::string& id, boost::json::object resource)
{
    resource["id"] = id;
    practitioners_.push_back(std::move(resource));
}

std::vector<const boost::json::object*> healthcloud_store::find_practitioners(
    std::string_view system, std::string_view value
) const
{
    std::vector<const boost::json::object*> found;
    for (const auto& practitioner : practitioners_)
    {
        const auto* identifiers = practitioner.if_contains("identifier");
        if (identifiers == nullptr || !identifiers->is_array())
            continue;
        for (const auto& identifier : identifiers->get_array())
        {
            const auto* entry = identifier.if_object();
            const auto* entry_system = entry != nullptr ? entry->if_contains("system") : nullptr;
            const auto* entry_value = entry != nullptr ? entry->if_contains("value") : nullptr;
            if (entry_system != nullptr && entry_value != nullptr && entry_system->is_string() &&
                entry_value->is_string() && entry_system->get_string() == system &&
                entry_value->get_string() == value)
            {
                found.push_back(&practitioner);
                break;
            }
        }
    }
    return found;
}

}  // namespace bbsync::sandbox

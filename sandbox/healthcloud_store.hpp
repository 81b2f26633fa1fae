#ifndef BBSYNC_SANDBOX_HEALTHCLOUD_STORE_HPP
#define BBSYNC_SANDBOX_HEALTHCLOUD_STORE_HPP

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bbsync::sandbox {

// The resource types the Healthcare API bundle endpoint stores.
inline constexpr std::array<std::string_view, 5> healthcloud_resource_types{
    "Encounter",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "Practitioner",
};

// Clinical records written through the Healthcare API, keyed by resource type and
// "system|value" of their first identifier. A record stored again under an existing key
// (a create without ifNoneExist) is counted as a duplicate; the key then points at the
// newest record.
class healthcloud_store
{
public:
    // Returns the index of a supported resource type in healthcloud_resource_types.
    static std::optional<std::size_t> type_index(std::string_view resource_type);

    // Returns the id of the record stored under the key, or nullopt.
    std::optional<std::string> find(std::size_t type, const std::string& identifier_key) const;

    // Stores a new record and returns its 18-character id. Throws only std::bad_alloc.
    std::string store(std::size_t type, const std::string& identifier_key);

    // Returns true if `id` names a stored record of the type.
    bool contains_id(std::size_t type, std::string_view id) const;

    // Keeps a stored Practitioner, with its id set, for identifier searches. Throws only
    // std::bad_alloc.
    void keep_practitioner(const std::string& id, boost::json::object resource);

    // Returns the kept Practitioners that have an identifier with this system and value, in
    // the order they were stored.
    std::vector<const boost::json::object*> find_practitioners(
        std::string_view system, std::string_view value
    ) const;

    std::uint64_t records(std::size_t type) const { return counts_[type]; }
    std::uint64_t duplicates(std::size_t type) const { return duplicates_[type]; }

private:
    std::array<std::unordered_map<std::string, std::uint32_t>, healthcloud_resource_types.size()>
        by_identifier_;
    std::array<std::uint64_t, healthcloud_resource_types.size()> counts_{};
    std::vector<boost::json::object> practitioners_;
    std::array<std::uint64_t, healthcloud_resource_types.size()> duplicates_{};
};

}  // namespace bbsync::sandbox

#endif

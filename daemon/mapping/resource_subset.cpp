#include "daemon/mapping/resource_subset.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <set>

namespace bbsync::mapping {
namespace {

namespace json = boost::json;

// Rewrites, anywhere below `value`, each "reference" string that is a key of the map.
void rewrite_references(json::value& value, const std::map<std::string, std::string>& reference_by_full_url)
{
    if (auto* object = value.if_object())
    {
        for (auto& member : *object)
        {
            if (member.key() == "reference" && member.value().is_string())
            {
                const auto found = reference_by_full_url.find(std::string(member.value().get_string()));
                if (found != reference_by_full_url.end())
                {
                    member.value() = found->second;
                }
                continue;
            }
            rewrite_references(member.value(), reference_by_full_url);
        }
    }
    else if (auto* array = value.if_array())
    {
        for (auto& element : *array)
        {
            rewrite_references(element, reference_by_full_url);
        }
    }
}

// Copies the resources whose `keep` flag is set, renumbering depends_on and dropping links
// to resources that are not kept.
std::vector<mapped_resource> keep_resources(
    const std::vector<mapped_resource>& resources,
    const std::vector<bool>& keep,
    std::vector<std::size_t>& original_indices
)
{
    std::vector<std::size_t> new_index(resources.size(), resources.size());
    std::vector<mapped_resource> kept;
    original_indices.clear();
    for (std::size_t i = 0; i < resources.size(); ++i)
    {
        if (!keep[i])
        {
            continue;
        }
        new_index[i] = kept.size();
        original_indices.push_back(i);
        kept.push_back(resources[i]);
    }
    for (auto& resource : kept)
    {
        std::vector<std::size_t> renumbered;
        for (const std::size_t dependency : resource.depends_on)
        {
            if (dependency < new_index.size() && new_index[dependency] < resources.size())
            {
                renumbered.push_back(new_index[dependency]);
            }
        }
        resource.depends_on = std::move(renumbered);
    }
    return kept;
}

}  // namespace

std::vector<std::size_t> dependencies_of(const eob_mapping& eob, std::size_t index)
{
    std::set<std::size_t> found;
    std::vector<std::size_t> pending{index};
    while (!pending.empty())
    {
        const std::size_t current = pending.back();
        pending.pop_back();
        if (current >= eob.resources.size())
        {
            continue;
        }
        for (const std::size_t dependency : eob.resources[current].depends_on)
        {
            if (dependency < eob.resources.size() && dependency != index && found.insert(dependency).second)
            {
                pending.push_back(dependency);
            }
        }
    }
    return {found.begin(), found.end()};
}

std::size_t substitute_known_resources(
    eob_mapping& eob, const std::map<std::string, std::string>& reference_by_full_url
)
{
    std::vector<bool> keep(eob.resources.size(), true);
    std::size_t removed = 0;
    for (std::size_t i = 0; i < eob.resources.size(); ++i)
    {
        if (reference_by_full_url.contains(eob.resources[i].full_url))
        {
            keep[i] = false;
            ++removed;
        }
    }
    if (removed == 0)
    {
        return 0;
    }
    std::vector<std::size_t> original_indices;
    eob.resources = keep_resources(eob.resources, keep, original_indices);
    for (auto& resource : eob.resources)
    {
        json::value body = std::move(resource.resource);
        rewrite_references(body, reference_by_full_url);
        resource.resource = std::move(body.as_object());
    }
    return removed;
}

eob_mapping subset_with_dependencies(
    const eob_mapping& eob, std::span<const std::size_t> wanted, std::vector<std::size_t>& original_indices
)
{
    std::vector<bool> keep(eob.resources.size(), false);
    for (const std::size_t index : wanted)
    {
        if (index >= eob.resources.size())
        {
            continue;
        }
        keep[index] = true;
        for (const std::size_t dependency : dependencies_of(eob, index))
        {
            keep[dependency] = true;
        }
    }
    eob_mapping subset;
    subset.eob_id = eob.eob_id;
    subset.last_updated = eob.last_updated;
    subset.type = eob.type;
    subset.resources = keep_resources(eob.resources, keep, original_indices);
    return subset;
}

}  // namespace bbsync::mapping

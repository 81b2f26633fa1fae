#include <boost/json/array.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "daemon/mapping/resource_identity.hpp"

namespace bbsync::mapping {
namespace {

namespace json = boost::json;

// Salesforce Healthcare API limit on entries per batch bundle.
constexpr std::size_t max_bundle_entries = 30;

// Returns the resource followed by everything it depends on, transitively, with dependencies
// ordered before their dependents (ascending index, since map_eob emits dependencies first).
std::vector<std::size_t> closure_of(const eob_mapping& eob, std::size_t index)
{
    std::set<std::size_t> found{index};
    std::vector<std::size_t> pending{index};
    while (!pending.empty())
    {
        const std::size_t current = pending.back();
        pending.pop_back();
        for (const std::size_t dependency : eob.resources[current].depends_on)
        {
            if (dependency < eob.resources.size() && found.insert(dependency).second)
            {
                pending.push_back(dependency);
            }
        }
    }
    return {found.begin(), found.end()};
}

json::object make_entry(const mapped_resource& resource)
{
    json::object request;
    request["method"] = "POST";
    request["url"] = resource.resource_type;
    request["ifNoneExist"] = make_if_none_exist(resource.identifier_system, resource.identifier_value);

    json::object entry;
    entry["fullUrl"] = resource.full_url;
    entry["resource"] = resource.resource;
    entry["request"] = std::move(request);
    return entry;
}

class batch_packer
{
public:
    batch_packer(std::size_t max_entries, bool build_json)
        : max_entries_(max_entries), build_json_(build_json)
    {}

    void add(std::span<const eob_mapping> eobs, std::size_t eob_index, std::size_t resource_index)
    {
        const eob_mapping& eob = eobs[eob_index];
        std::vector<std::size_t> group = closure_of(eob, resource_index);
        if (group.size() > max_entries_)
        {
            throw std::invalid_argument(
                "EOB " + eob.eob_id + ": resource " + std::to_string(resource_index) + " needs " +
                std::to_string(group.size()) +
                " bundle entries with its dependencies, more than max_entries " +
                std::to_string(max_entries_) + "; raise max_entries"
            );
        }

        if (missing_count(eob, group) > max_entries_ - current_.entries.size())
        {
            flush();
        }
        for (const std::size_t index : group)
        {
            const mapped_resource& resource = eob.resources[index];
            if (full_urls_.insert(resource.full_url).second)
            {
                if (build_json_)
                {
                    entries_.push_back(make_entry(resource));
                }
                current_.entries.push_back({eob_index, index});
            }
        }
    }

    std::vector<batch_bundle> finish()
    {
        flush();
        return std::move(bundles_);
    }

private:
    std::size_t missing_count(const eob_mapping& eob, const std::vector<std::size_t>& group) const
    {
        return static_cast<std::size_t>(std::count_if(group.begin(), group.end(), [&](std::size_t index) {
            return !full_urls_.contains(eob.resources[index].full_url);
        }));
    }

    void flush()
    {
        if (current_.entries.empty())
        {
            return;
        }
        if (build_json_)
        {
            current_.bundle["resourceType"] = "Bundle";
            current_.bundle["type"] = "batch";
            current_.bundle["entry"] = std::move(entries_);
        }
        bundles_.push_back(std::move(current_));
        current_ = batch_bundle{};
        entries_ = json::array{};
        full_urls_.clear();
    }

    std::size_t max_entries_;
    bool build_json_;
    batch_bundle current_;
    json::array entries_;
    std::set<std::string> full_urls_;
    std::vector<batch_bundle> bundles_;
};

std::vector<batch_bundle> pack(std::span<const eob_mapping> eobs, std::size_t max_entries, bool build_json)
{
    if (max_entries == 0 || max_entries > max_bundle_entries)
    {
        throw std::invalid_argument(
            "max_entries " + std::to_string(max_entries) + " is out of range: use 1 to " +
            std::to_string(max_bundle_entries)
        );
    }

    batch_packer packer(max_entries, build_json);
    for (std::size_t eob_index = 0; eob_index < eobs.size(); ++eob_index)
    {
        for (std::size_t resource_index = 0; resource_index < eobs[eob_index].resources.size();
             ++resource_index)
        {
            packer.add(eobs, eob_index, resource_index);
        }
    }
    return packer.finish();
}

}  // namespace

std::vector<batch_bundle> build_batches(std::span<const eob_mapping> eobs, std::size_t max_entries)
{
    return pack(eobs, max_entries, true);
}

std::vector<batch_bundle> plan_batches(std::span<const eob_mapping> eobs, std::size_t max_entries)
{
    return pack(eobs, max_entries, false);
}

std::string serialize_batch(std::span<const eob_mapping> eobs, std::span<const bundle_entry_ref> entries)
{
    // The members in make_entry's order, so the text equals that of build_batches' bundle.
    std::string out = R"({"resourceType":"Bundle","type":"batch","entry":[)";
    bool first = true;
    for (const auto& ref : entries)
    {
        const mapped_resource& resource = eobs[ref.eob_index].resources[ref.resource_index];
        out.append(first ? R"({"fullUrl":)" : R"(,{"fullUrl":)");
        first = false;
        append_json_string(out, resource.full_url);
        out.append(R"(,"resource":)");
        append_fhir_json(out, resource.resource);
        out.append(R"(,"request":{"method":"POST","url":)");
        append_json_string(out, resource.resource_type);
        out.append(R"(,"ifNoneExist":)");
        append_json_string(out, make_if_none_exist(resource.identifier_system, resource.identifier_value));
        out.append("}}");
    }
    out.append("]}");
    return out;
}

}  // namespace bbsync::mapping

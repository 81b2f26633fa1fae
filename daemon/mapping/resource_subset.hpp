#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "daemon/mapping/eob_mapper.hpp"

namespace bbsync::mapping {

// Returns the indices of every resource that `index` depends on, transitively, in ascending
// order and without `index` itself. Indices out of range are ignored. Throws only
// std::bad_alloc.
std::vector<std::size_t> dependencies_of(const eob_mapping& eob, std::size_t index);

// Removes every resource whose full_url is a key of `reference_by_full_url` and rewrites each
// "reference" that named it to the mapped literal reference (such as "Practitioner/0a1b"), so
// the remaining resources point at a resource Health Cloud already holds. depends_on indices
// are renumbered. Returns how many resources were removed. Throws only std::bad_alloc.
std::size_t substitute_known_resources(
    eob_mapping& eob, const std::map<std::string, std::string>& reference_by_full_url
);

// Returns a copy of `eob` that keeps only the resources in `wanted` and everything they depend
// on, in their original order, with depends_on renumbered. `original_indices[i]` receives the
// index in `eob` of the copy's resource i. Out-of-range indices in `wanted` are ignored.
// Throws only std::bad_alloc.
eob_mapping subset_with_dependencies(
    const eob_mapping& eob, std::span<const std::size_t> wanted, std::vector<std::size_t>& original_indices
);

}  // namespace bbsync::mapping

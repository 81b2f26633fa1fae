#ifndef BBSYNC_SANDBOX_CARIN_SEARCH_CACHE_HPP
#define BBSYNC_SANDBOX_CARIN_SEARCH_CACHE_HPP

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sandbox/payer_data.hpp"

namespace bbsync::sandbox {

// An EOB search kept for its `_getpages` next links: the patient and a copy of the matching
// EOB records, so that a walk returns the result of the first request even when EOBs are added.
struct carin_search
{
    std::size_t patient = 0;
    std::vector<eob_record> results;
};

// The searches of CARIN mode, each under an opaque id, as HAPI FHIR servers cache them.
// The oldest are dropped once more than 2,000,000 EOB records are kept (about 64 MB).
class carin_search_cache
{
public:
    explicit carin_search_cache(std::uint64_t seed) : seed_(seed) {}

    // Stores a search and returns its opaque id (32 characters [A-Za-z0-9]). Throws only
    // std::bad_alloc.
    std::string store(carin_search search);

    // Returns the search with this id, or nullptr when it is unknown or was dropped.
    const carin_search* find(std::string_view id) const;

    // Returns the number of searches dropped to stay under the record limit.
    std::uint64_t dropped() const { return dropped_; }

private:
    std::uint64_t seed_;
    std::uint64_t stored_ = 0;
    std::uint64_t dropped_ = 0;
    std::size_t records_kept_ = 0;
    std::unordered_map<std::string, carin_search> searches_;
    std::deque<std::string> order_;
};

}  // namespace bbsync::sandbox

#endif

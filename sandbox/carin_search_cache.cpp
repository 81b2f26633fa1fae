#include "sandbox/carin_search_cache.hpp"

#include "sandbox/deterministic_random.hpp"

namespace bbsync::sandbox {
namespace {

constexpr std::size_t max_records_kept = 2'000'000;

}  // namespace

std::string carin_search_cache::store(carin_search search)
{
    std::string id = random_text(32, seed_, ++stored_, 0xCA);
    records_kept_ += search.results.size();
    searches_.emplace(id, std::move(search));
    order_.push_back(id);
    while (records_kept_ > max_records_kept && order_.size() > 1)
    {
        const auto oldest = searches_.find(order_.front());
        records_kept_ -= oldest->second.results.size();
        searches_.erase(oldest);
        order_.pop_front();
        ++dropped_;
    }
    return id;
}

const carin_search* carin_search_cache::find(std::string_view id) const
{
    const auto found = searches_.find(std::string(id));
    return found == searches_.end() ? nullptr : &found->second;
}

}  // namespace bbsync::sandbox

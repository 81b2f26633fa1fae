#include "daemon/sync/eob_ledger.hpp"

#include <functional>
#include <limits>
#include <stdexcept>

#include "daemon/common/fhir_instant.hpp"

namespace bbsync {

std::optional<std::size_t> eob_ledger::add(std::string_view id, std::string_view last_updated)
{
    if (entries_.size() >= std::numeric_limits<std::uint32_t>::max() / 2 ||
        id_texts_.size() + id.size() > std::numeric_limits<std::uint32_t>::max())
    {
        throw std::length_error("too many EOBs in one job: the EOB ledger holds at most 2^31");
    }
    if ((entries_.size() + 1) * 2 > index_.size())
    {
        grow_index();
    }
    const std::size_t mask = index_.size() - 1;
    const std::size_t hash = std::hash<std::string_view>{}(id);
    std::size_t slot = hash & mask;
    while (index_[slot] != 0)
    {
        if (id_at(index_[slot] - 1) == id)
        {
            return std::nullopt;
        }
        slot = (slot + 1) & mask;
    }

    const auto index = static_cast<std::uint32_t>(entries_.size());
    ids_.push_back({static_cast<std::uint32_t>(id_texts_.size()), static_cast<std::uint32_t>(id.size())});
    id_texts_.append(id);
    index_[slot] = index + 1;

    entry added;
    // Only a parsed time is compared or returned, and a FHIR instant fits in 255 characters.
    if (auto parsed = parse_fhir_instant(last_updated); parsed && last_updated.size() <= 255)
    {
        added.has_time = true;
        added.last_updated_us = parsed->time_since_epoch().count();
        added.text_offset = static_cast<std::uint32_t>(time_texts_.size());
        added.text_size = static_cast<std::uint8_t>(last_updated.size());
        time_texts_.append(last_updated);
    }
    entries_.push_back(added);
    return index;
}

std::size_t eob_ledger::confirmed_count() const noexcept
{
    std::size_t count = 0;
    for (const auto& eob : entries_)
    {
        count += eob.confirmed ? 1 : 0;
    }
    return count;
}

std::optional<std::string> eob_ledger::advance_watermark(const std::optional<std::string>& current) const
{
    // The earliest unconfirmed EOB bounds the watermark from above (exclusive).
    std::optional<std::int64_t> blocked_at;
    for (const auto& eob : entries_)
    {
        if (eob.confirmed)
        {
            continue;
        }
        if (!eob.has_time)
        {
            return std::nullopt;
        }
        if (!blocked_at || eob.last_updated_us < *blocked_at)
        {
            blocked_at = eob.last_updated_us;
        }
    }

    const entry* best = nullptr;
    for (const auto& eob : entries_)
    {
        if (!eob.confirmed || !eob.has_time || (blocked_at && eob.last_updated_us >= *blocked_at))
        {
            continue;
        }
        if (best == nullptr || eob.last_updated_us > best->last_updated_us)
        {
            best = &eob;
        }
    }
    if (best == nullptr)
    {
        return std::nullopt;
    }
    if (current)
    {
        const auto current_instant = parse_fhir_instant(*current);
        if (current_instant && best->last_updated_us <= current_instant->time_since_epoch().count())
        {
            return std::nullopt;
        }
    }
    return time_texts_.substr(best->text_offset, best->text_size);
}

std::string_view eob_ledger::id_at(std::uint32_t index) const noexcept
{
    const auto& span = ids_[index];
    return std::string_view(id_texts_).substr(span.offset, span.size);
}

void eob_ledger::grow_index()
{
    std::vector<std::uint32_t> grown(index_.empty() ? 64 : index_.size() * 2, 0);
    const std::size_t mask = grown.size() - 1;
    for (std::uint32_t i = 0; i < ids_.size(); ++i)
    {
        const std::size_t hash = std::hash<std::string_view>{}(id_at(i));
        std::size_t slot = hash & mask;
        while (grown[slot] != 0)
        {
            slot = (slot + 1) & mask;
        }
        grown[slot] = i + 1;
    }
    index_ = std::move(grown);
}

}  // namespace bbsync

#ifndef BBSYNC_DAEMON_SYNC_EOB_LEDGER_HPP
#define BBSYNC_DAEMON_SYNC_EOB_LEDGER_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bbsync {

// What a job remembers of every EOB it fetched: the id, to skip an EOB that a later page repeats,
// and meta.lastUpdated with the write outcome, to place the watermark. A job of a patient with a
// long history keeps thousands of entries for its whole run, so they are packed. Ids and times
// share one text buffer each, and the rest takes 24 bytes per EOB plus a hash index.
class eob_ledger
{
public:
    // Records an EOB. Returns its index, or nullopt when the id was recorded before. The
    // EOB starts unconfirmed.
    std::optional<std::size_t> add(std::string_view id, std::string_view last_updated);

    // Records whether Health Cloud confirmed every resource of EOB `index`.
    void set_confirmed(std::size_t index, bool confirmed) { entries_.at(index).confirmed = confirmed; }

    std::size_t size() const noexcept { return entries_.size(); }
    std::size_t confirmed_count() const noexcept;

    // Returns the new watermark: the highest lastUpdated such that every EOB updated at or before
    // it is confirmed. Returns nullopt when that is not later than `current`, or when an
    // unconfirmed EOB has no lastUpdated that parses as a FHIR instant.
    std::optional<std::string> advance_watermark(const std::optional<std::string>& current) const;

private:
    struct entry
    {
        std::int64_t last_updated_us = 0;  // microseconds since the epoch, when has_time
        std::uint32_t text_offset = 0;     // lastUpdated text in time_texts_, when has_time
        std::uint8_t text_size = 0;
        bool has_time = false;
        bool confirmed = false;
    };
    struct id_span
    {
        std::uint32_t offset = 0;
        std::uint32_t size = 0;
    };

    std::string_view id_at(std::uint32_t index) const noexcept;
    void grow_index();

    std::vector<entry> entries_;
    std::vector<id_span> ids_;
    std::string id_texts_;
    std::string time_texts_;
    // Open addressing: entry index + 1 per slot, or 0 for an empty slot. The size is a power of
    // two, and at most half of the slots are used.
    std::vector<std::uint32_t> index_;
};

}  // namespace bbsync

#endif

#ifndef BBSYNC_DAEMON_SYNC_EOB_LEDGER_HPP
#define BBSYNC_DAEMON_SYNC_EOB_LEDGER_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/database.hpp"
#include "store/statement.hpp"

namespace bbsync {

// Scratch storage for the EOB ledgers of all jobs: a private temporary SQLite database, whose
// file SQLite unlinks as soon as it creates it. A job of a patient with a long history records
// thousands of EOBs, so they go to this file, and memory holds only its page cache. The file is
// never synced, because nothing in it must survive the process.
class ledger_store
{
public:
    // Opens the scratch database. Throws store::error when SQLite cannot create it, for example
    // when its temporary directory (SQLITE_TMPDIR, else TMPDIR, else /var/tmp or /tmp) is not
    // writable.
    ledger_store();

    // Returns a ledger id that no other ledger of this store uses.
    std::int64_t new_ledger() noexcept { return ++last_ledger_; }

private:
    friend class eob_ledger;

    store::database db_;
    store::statement insert_;
    store::statement confirm_;
    store::statement count_confirmed_;
    store::statement unconfirmed_;
    store::statement best_confirmed_;
    store::statement remove_;
    std::int64_t last_ledger_ = 0;
};

// The record a job keeps of every EOB it fetched: the id, to skip an EOB that a later page
// repeats, and meta.lastUpdated with the write outcome, to place the watermark. The rows live in
// a ledger_store and go when the ledger is destroyed. Single-threaded, like the jobs.
class eob_ledger
{
public:
    explicit eob_ledger(ledger_store& store);
    eob_ledger(const eob_ledger&) = delete;
    eob_ledger& operator=(const eob_ledger&) = delete;
    ~eob_ledger();

    // Records an EOB. Returns its index, or nullopt when the id was recorded before. The EOB
    // starts unconfirmed. Throws store::error when the scratch database fails.
    std::optional<std::size_t> add(std::string_view id, std::string_view last_updated);

    // Records whether Health Cloud confirmed every resource of EOB `index`.
    void set_confirmed(std::size_t index, bool confirmed);

    std::size_t size() const noexcept { return size_; }
    std::size_t confirmed_count();

    // Returns the new watermark: the highest lastUpdated such that every EOB updated at or before
    // it is confirmed. Returns nullopt when that is not later than `current`, or when an
    // unconfirmed EOB has no lastUpdated that parses as a FHIR instant.
    std::optional<std::string> advance_watermark(const std::optional<std::string>& current);

private:
    ledger_store& store_;
    std::int64_t ledger_;
    std::size_t size_ = 0;
};

}  // namespace bbsync

#endif

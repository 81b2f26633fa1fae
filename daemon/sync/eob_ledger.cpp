#include "daemon/sync/eob_ledger.hpp"

#include "daemon/common/fhir_instant.hpp"

namespace bbsync {
namespace {

constexpr std::string_view schema = R"sql(
    PRAGMA journal_mode = OFF;
    PRAGMA synchronous = OFF;
    PRAGMA cache_size = -2048;
    CREATE TABLE eob (
        ledger    INTEGER NOT NULL,
        position  INTEGER NOT NULL,
        id        TEXT NOT NULL,
        time_us   INTEGER,
        time_text TEXT,
        confirmed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (ledger, position),
        UNIQUE (ledger, id)
    ) WITHOUT ROWID;
)sql";

store::database open_scratch()
{
    // An empty path makes SQLite create a private temporary file, unlinked once it is open.
    auto db = store::database::open("");
    db.execute(schema);
    return db;
}

}  // namespace

ledger_store::ledger_store()
    : db_(open_scratch()),
      insert_(db_.prepare(
          "INSERT OR IGNORE INTO eob (ledger, position, id, time_us, time_text) VALUES (?1, ?2, ?3, ?4, ?5)"
      )),
      confirm_(db_.prepare("UPDATE eob SET confirmed = ?3 WHERE ledger = ?1 AND position = ?2")),
      count_confirmed_(db_.prepare("SELECT count(*) FROM eob WHERE ledger = ?1 AND confirmed")),
      unconfirmed_(db_.prepare(
          "SELECT count(*) - count(time_us), min(time_us) FROM eob WHERE ledger = ?1 AND NOT confirmed"
      )),
      best_confirmed_(db_.prepare(
          "SELECT time_us, time_text FROM eob WHERE ledger = ?1 AND confirmed AND time_us IS NOT NULL "
          "AND (?2 IS NULL OR time_us < ?2) ORDER BY time_us DESC LIMIT 1"
      )),
      remove_(db_.prepare("DELETE FROM eob WHERE ledger = ?1"))
{}

eob_ledger::eob_ledger(ledger_store& store) : store_(store), ledger_(store.new_ledger()) {}

eob_ledger::~eob_ledger()
{
    // Best effort: a scratch row left behind costs disk space until the process ends, nothing more.
    try
    {
        store_.remove_.bind(1, ledger_).execute();
    }
    catch (...)
    {
        store_.remove_.reset();
    }
}

std::optional<std::size_t> eob_ledger::add(std::string_view id, std::string_view last_updated)
{
    auto& insert = store_.insert_;
    insert.bind(1, ledger_).bind(2, static_cast<std::int64_t>(size_)).bind(3, id);
    // Only a parsed time is compared or returned.
    if (const auto parsed = parse_fhir_instant(last_updated))
    {
        insert.bind(4, static_cast<std::int64_t>(parsed->time_since_epoch().count())).bind(5, last_updated);
    }
    else
    {
        insert.bind(4, nullptr).bind(5, nullptr);
    }
    insert.execute();
    if (store_.db_.changes() == 0)
    {
        return std::nullopt;
    }
    return size_++;
}

void eob_ledger::set_confirmed(std::size_t index, bool confirmed)
{
    store_.confirm_.bind(1, ledger_)
        .bind(2, static_cast<std::int64_t>(index))
        .bind(3, confirmed ? 1 : 0)
        .execute();
}

std::size_t eob_ledger::confirmed_count()
{
    auto& count = store_.count_confirmed_;
    count.bind(1, ledger_);
    count.step();
    const auto confirmed = count.column_int64(0);
    count.reset();
    return static_cast<std::size_t>(confirmed);
}

std::optional<std::string> eob_ledger::advance_watermark(const std::optional<std::string>& current)
{
    // The earliest unconfirmed EOB bounds the watermark from above (exclusive); one without a
    // usable time proves nothing.
    auto& unconfirmed = store_.unconfirmed_;
    unconfirmed.bind(1, ledger_);
    unconfirmed.step();
    const auto without_time = unconfirmed.column_int64(0);
    const auto blocked_at = unconfirmed.column_optional_int64(1);
    unconfirmed.reset();
    if (without_time > 0)
    {
        return std::nullopt;
    }

    auto& best = store_.best_confirmed_;
    best.bind(1, ledger_).bind(2, blocked_at);
    if (!best.step())
    {
        best.reset();
        return std::nullopt;
    }
    const auto best_us = best.column_int64(0);
    auto text = best.column_text(1);
    best.reset();

    if (current)
    {
        const auto current_instant = parse_fhir_instant(*current);
        if (current_instant && best_us <= current_instant->time_since_epoch().count())
        {
            return std::nullopt;
        }
    }
    return text;
}

}  // namespace bbsync

#include "store/database.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <stdexcept>

#include "store/error.hpp"

namespace bbsync::store {
namespace {

// Returns the length of `sql` as the int that sqlite3_prepare_v2 takes, rejecting longer text.
int sql_length(std::string_view sql)
{
    if (sql.size() > static_cast<std::size_t>(INT_MAX))
    {
        throw std::invalid_argument(
            "SQL text of " + std::to_string(sql.size()) +
            " bytes is too long for sqlite3_prepare_v2, which takes an int length; split it into smaller "
            "parts"
        );
    }
    return static_cast<int>(sql.size());
}

bool is_in_memory(const std::string& path) { return path.empty() || path == ":memory:"; }

}  // namespace

void database::closer::operator()(sqlite3* handle) const noexcept
{
    // sqlite3_close_v2 defers the close until the last statement is finalized instead of
    // failing with SQLITE_BUSY, so a statement that outlives its database does not leak it.
    sqlite3_close_v2(handle);
}

database::database(std::unique_ptr<sqlite3, closer> handle, std::string path) noexcept
    : handle_(std::move(handle)), path_(std::move(path))
{}

database database::open(const std::string& path, const open_options& options)
{
    // Open the connection. SQLITE_OPEN_EXRESCODE makes open report extended result codes.
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (options.read_only)
    {
        flags |= SQLITE_OPEN_READONLY;
    }
    else
    {
        flags |= SQLITE_OPEN_READWRITE;
        if (options.create)
        {
            flags |= SQLITE_OPEN_CREATE;
        }
    }
    sqlite3* raw = nullptr;
    const int result = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    std::unique_ptr<sqlite3, closer> handle(raw);
    if (result != SQLITE_OK)
    {
        const std::string reason = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(result);
        throw error(
            raw != nullptr ? sqlite3_extended_errcode(raw) : result,
            "failed to open SQLite database \"" + path + "\": " + reason +
                "; check that the file (or, with create, its directory) exists and is readable and writable",
            ""
        );
    }
    database db(std::move(handle), path);

    // Configure the connection.
    sqlite3_extended_result_codes(db.native_handle(), 1);
    const auto timeout = std::clamp<std::chrono::milliseconds::rep>(options.busy_timeout.count(), 0, INT_MAX);
    sqlite3_busy_timeout(db.native_handle(), static_cast<int>(timeout));
    if (!options.read_only && !is_in_memory(path))
    {
        statement journal = db.prepare("PRAGMA journal_mode=WAL");
        std::string mode = journal.step() ? journal.column_text(0) : std::string();
        std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) {
            return std::tolower(c);
        });
        if (mode != "wal")
        {
            throw error(
                SQLITE_ERROR,
                "SQLite database \"" + path + "\" stays in journal mode '" + mode +
                    "' instead of WAL; keep the database on a local file system",
                std::string(journal.sql())
            );
        }
    }
    db.execute("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL");
    return db;
}

void database::execute(std::string_view sql)
{
    const char* cursor = sql.data();
    const char* const end = sql.data() + sql.size();
    while (cursor != nullptr && cursor < end)
    {
        // Skip whitespace so that error::sql() starts at the failing statement itself.
        if (std::isspace(static_cast<unsigned char>(*cursor)) != 0)
        {
            ++cursor;
            continue;
        }
        const std::string_view rest(cursor, static_cast<std::size_t>(end - cursor));
        sqlite3_stmt* raw = nullptr;
        const char* tail = nullptr;
        const int result = sqlite3_prepare_v2(handle_.get(), rest.data(), sql_length(rest), &raw, &tail);
        if (result != SQLITE_OK)
        {
            throw_sqlite_error(handle_.get(), result, rest);
        }
        cursor = tail;
        if (raw == nullptr)
        {
            // Only whitespace or comments were left.
            continue;
        }
        statement current(raw);
        while (current.step())
        {}
    }
}

statement database::prepare(std::string_view sql)
{
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int result = sqlite3_prepare_v2(handle_.get(), sql.data(), sql_length(sql), &raw, &tail);
    if (result != SQLITE_OK)
    {
        throw_sqlite_error(handle_.get(), result, sql);
    }
    if (raw == nullptr)
    {
        throw std::invalid_argument(
            "invalid SQL for prepare(): the text contains no statement: \"" + std::string(sql) + "\""
        );
    }
    statement prepared(raw);

    // Reject a second statement in the text, which SQLite itself would silently ignore.
    const char* const end = sql.data() + sql.size();
    if (tail != nullptr && tail < end)
    {
        sqlite3_stmt* extra = nullptr;
        const std::string_view rest(tail, static_cast<std::size_t>(end - tail));
        const int extra_result =
            sqlite3_prepare_v2(handle_.get(), rest.data(), sql_length(rest), &extra, nullptr);
        sqlite3_finalize(extra);
        if (extra_result != SQLITE_OK || extra != nullptr)
        {
            throw std::invalid_argument(
                "prepare() takes one SQL statement, but the text continues after it: \"" + std::string(rest) +
                "\"; use execute() for several statements"
            );
        }
    }
    return prepared;
}

std::int64_t database::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(handle_.get()); }

int database::changes() const noexcept { return sqlite3_changes(handle_.get()); }

int database::user_version()
{
    statement query = prepare("PRAGMA user_version");
    query.step();
    return static_cast<int>(query.column_int64(0));
}

}  // namespace bbsync::store

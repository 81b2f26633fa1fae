#ifndef BBSYNC_STORE_DATABASE_HPP
#define BBSYNC_STORE_DATABASE_HPP

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/statement.hpp"

struct sqlite3;

namespace bbsync::store {

// How database::open opens a database file.
struct open_options
{
    // Create the file when it does not exist (SQLITE_OPEN_CREATE). Ignored when read_only is set.
    bool create = true;

    // Open with SQLITE_OPEN_READONLY. The journal mode is then left as it is.
    bool read_only = false;

    // How long a statement waits for another connection's lock before failing with SQLITE_BUSY.
    std::chrono::milliseconds busy_timeout{5000};
};

// One SQLite connection, opened with SQLITE_OPEN_NOMUTEX: use it from one thread at a time.
// Movable, not copyable. Statements prepared from it must be destroyed before it.
class database
{
public:
    // Opens `path` (":memory:" for a private in-memory database) and configures it: the busy
    // timeout, PRAGMA journal_mode=WAL (skipped for in-memory, temporary and read-only
    // databases), foreign_keys=ON and synchronous=FULL. Throws error when the file cannot be
    // opened or a setting fails, including when the file system does not support WAL.
    static database open(const std::string& path, const open_options& options = {});

    database(database&&) noexcept = default;
    database& operator=(database&&) noexcept = default;
    database(const database&) = delete;
    database& operator=(const database&) = delete;
    ~database() = default;

    // Runs one or more ';'-separated statements and discards any rows they return. Statements
    // before a failing one stay executed. Throws error naming the failing statement.
    void execute(std::string_view sql);

    // Compiles one statement. Text after the first statement is rejected, so that a caller does
    // not silently lose it. Throws error for invalid SQL, std::invalid_argument for empty SQL or
    // SQL that contains more than one statement.
    statement prepare(std::string_view sql);

    // Returns the rowid of the most recent successful INSERT on this connection, 0 if none.
    std::int64_t last_insert_rowid() const noexcept;

    // Returns the number of rows changed by the most recent INSERT, UPDATE or DELETE.
    int changes() const noexcept;

    // Returns PRAGMA user_version, the schema version written by migrate(). Throws error.
    int user_version();

    // Returns the path given to open().
    const std::string& path() const noexcept { return path_; }

    // Returns the underlying connection handle, for calls this class does not wrap.
    sqlite3* native_handle() const noexcept { return handle_.get(); }

private:
    struct closer
    {
        void operator()(sqlite3* handle) const noexcept;
    };

    database(std::unique_ptr<sqlite3, closer> handle, std::string path) noexcept;

    std::unique_ptr<sqlite3, closer> handle_;
    std::string path_;
};

}  // namespace bbsync::store

#endif

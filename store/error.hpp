#ifndef BBSYNC_STORE_ERROR_HPP
#define BBSYNC_STORE_ERROR_HPP

#include <string>
#include <string_view>
#include <system_error>

struct sqlite3;

namespace bbsync::store {

// Returns the "sqlite" error category. Its values are SQLite extended result codes
// (SQLITE_CONSTRAINT_UNIQUE, SQLITE_BUSY_SNAPSHOT, ...) and message() is sqlite3_errstr().
// Does not throw.
const std::error_category& sqlite_category() noexcept;

// Returns an error_code in sqlite_category() for an SQLite extended result code. Does not throw.
std::error_code make_sqlite_error_code(int extended_code) noexcept;

// A failed SQLite call. Carries the extended result code as code(), the message SQLite gave for
// this failure (sqlite3_errmsg) and the SQL text of the statement. Bound parameter values are
// not included: SQLite's messages name tables, columns and constraints, not parameter values.
class error : public std::system_error
{
public:
    // Builds the error. Throws std::bad_alloc only.
    error(int extended_code, std::string message, std::string sql);

    // Returns the message, the extended code with its description and the SQL text, e.g.
    // "UNIQUE constraint failed: t.id (SQLite error 2067: constraint failed) in SQL: INSERT ...".
    const char* what() const noexcept override { return what_.c_str(); }

    // Returns the SQLite extended result code, e.g. 2067 for SQLITE_CONSTRAINT_UNIQUE.
    int extended_code() const noexcept { return code().value(); }

    // Returns the primary result code (the low byte of the extended code), e.g. 19 for
    // SQLITE_CONSTRAINT.
    int primary_code() const noexcept { return code().value() & 0xff; }

    // Returns the message SQLite gave for this failure, without the SQL text.
    const std::string& sqlite_message() const noexcept { return sqlite_message_; }

    // Returns the SQL text of the failed statement, or an empty string when the failure
    // belongs to no statement (opening a database, for example).
    const std::string& sql() const noexcept { return sql_; }

private:
    std::string sqlite_message_;
    std::string sql_;
    std::string what_;
};

// Returns true for failures after which the database file can no longer be trusted to hold what
// was committed: I/O errors (a failed fsync among them), a full disk, corruption. Does not throw.
bool is_storage_failure(int extended_code) noexcept;

// Called with every storage failure just before it is thrown, so that a process can stop at once
// instead of carrying on with state it cannot persist. Null (the default) only throws.
using storage_failure_handler = void (*)(const error&) noexcept;

// Installs the handler for the whole process and returns the previous one. Does not throw.
storage_failure_handler set_storage_failure_handler(storage_failure_handler handler) noexcept;

// Calls the installed handler when `failure` is a storage failure. Does not throw.
void report_if_storage_failure(const error& failure) noexcept;

// Throws error with the extended result code and message of the connection's most recent
// failure. `result_code` is used when `connection` is null or reports no error. `sql` names the
// statement that failed and may be empty.
[[noreturn]] void throw_sqlite_error(sqlite3* connection, int result_code, std::string_view sql);

}  // namespace bbsync::store

#endif

#ifndef BBSYNC_STORE_STATEMENT_HPP
#define BBSYNC_STORE_STATEMENT_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace bbsync::store {

// A prepared statement, made by database::prepare. Prepare it once and reuse it: bind, step
// until done, reset. Finalized by the destructor. Movable, not copyable.
//
// Parameters are numbered from 1 or named with their prefix (":name"); columns are numbered
// from 0. Text values are copied by SQLite (SQLITE_TRANSIENT), so temporaries may be bound.
// Every bind throws error when SQLite rejects it (SQLITE_RANGE for a bad index) and error with
// SQLITE_RANGE when no parameter has the given name.
class statement
{
public:
    statement(statement&&) noexcept = default;
    statement& operator=(statement&&) noexcept = default;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement() = default;

    // Binds an integer to the parameter.
    statement& bind(int index, std::int64_t value);
    statement& bind(int index, int value);

    // Binds a floating-point value to the parameter.
    statement& bind(int index, double value);

    // Binds a copy of the text to the parameter. An empty string binds '', not NULL.
    statement& bind(int index, std::string_view value);
    statement& bind(int index, const std::string& value);
    statement& bind(int index, const char* value);

    // Binds NULL to the parameter.
    statement& bind(int index, std::nullptr_t);

    // Binds the value, or NULL when it is empty.
    statement& bind(int index, const std::optional<std::string>& value);
    statement& bind(int index, const std::optional<std::int64_t>& value);

    // The same binds, addressed by parameter name including its prefix, e.g. ":patient_key".
    statement& bind(const char* name, std::int64_t value);
    statement& bind(const char* name, int value);
    statement& bind(const char* name, double value);
    statement& bind(const char* name, std::string_view value);
    statement& bind(const char* name, const std::string& value);
    statement& bind(const char* name, const char* value);
    statement& bind(const char* name, std::nullptr_t);
    statement& bind(const char* name, const std::optional<std::string>& value);
    statement& bind(const char* name, const std::optional<std::int64_t>& value);

    // Runs the statement to its next row. Returns true when a row is available to the column
    // accessors, false when the statement has finished. Throws error on failure, including
    // SQLITE_BUSY once the busy timeout has passed; the statement is then reset with its
    // bindings kept, so it can be stepped again.
    bool step();

    // Runs a statement that returns no rows to completion, then resets it and clears its
    // bindings. Throws std::logic_error, without running it, when the statement has result
    // columns (use step() for those). Throws error on failure; the statement is reset then too.
    void execute();

    // Resets the statement and clears its bindings, ready for the next use.
    void reset() noexcept;

    // Return the column of the current row, converted as SQLite converts: NULL reads as 0, 0.0
    // or an empty string. Throw std::out_of_range for a column index outside the result.
    std::int64_t column_int64(int index) const;
    double column_double(int index) const;
    std::string column_text(int index) const;

    // Return the column of the current row, or std::nullopt when it is NULL. Throw
    // std::out_of_range for a column index outside the result.
    std::optional<std::string> column_optional_text(int index) const;
    std::optional<std::int64_t> column_optional_int64(int index) const;

    // Returns true when the column of the current row is NULL. Throws std::out_of_range for a
    // column index outside the result.
    bool column_is_null(int index) const;

    // Returns the number of result columns, 0 for a statement that returns no rows.
    int column_count() const noexcept;

    // Returns the SQL text the statement was prepared from.
    std::string_view sql() const noexcept;

    // Returns the underlying statement handle, for calls this class does not wrap.
    sqlite3_stmt* native_handle() const noexcept { return handle_.get(); }

private:
    friend class database;

    struct finalizer
    {
        void operator()(sqlite3_stmt* handle) const noexcept;
    };

    explicit statement(sqlite3_stmt* handle) noexcept;

    int parameter_index(const char* name) const;
    void check_column(int index) const;
    void check_bind(int result_code) const;

    std::unique_ptr<sqlite3_stmt, finalizer> handle_;
};

}  // namespace bbsync::store

#endif

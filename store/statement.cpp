#include "store/statement.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <string>

#include "store/error.hpp"

namespace bbsync::store {

void statement::finalizer::operator()(sqlite3_stmt* handle) const noexcept { sqlite3_finalize(handle); }

statement::statement(sqlite3_stmt* handle) noexcept : handle_(handle) {}

void statement::check_bind(int result_code) const
{
    if (result_code != SQLITE_OK)
    {
        throw_sqlite_error(sqlite3_db_handle(handle_.get()), result_code, sql());
    }
}

int statement::parameter_index(const char* name) const
{
    const int index = sqlite3_bind_parameter_index(handle_.get(), name);
    if (index == 0)
    {
        throw error(
            SQLITE_RANGE,
            std::string("no parameter named ") + name +
                " in the statement; name it with its prefix, e.g. \":id\"",
            std::string(sql())
        );
    }
    return index;
}

void statement::check_column(int index) const
{
    const int count = column_count();
    if (index < 0 || index >= count)
    {
        throw std::out_of_range(
            "column index " + std::to_string(index) + " is outside the result's " + std::to_string(count) +
            " columns (indexes start at 0) in SQL: " + std::string(sql())
        );
    }
}

statement& statement::bind(int index, std::int64_t value)
{
    check_bind(sqlite3_bind_int64(handle_.get(), index, value));
    return *this;
}

statement& statement::bind(int index, int value)
{
    check_bind(sqlite3_bind_int(handle_.get(), index, value));
    return *this;
}

statement& statement::bind(int index, double value)
{
    check_bind(sqlite3_bind_double(handle_.get(), index, value));
    return *this;
}

statement& statement::bind(int index, std::string_view value)
{
    // An empty view may have a null data(), which SQLite would bind as NULL instead of ''.
    const char* text = value.empty() ? "" : value.data();
    check_bind(sqlite3_bind_text64(handle_.get(), index, text, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
}

statement& statement::bind(int index, const std::string& value)
{
    return bind(index, std::string_view(value));
}

statement& statement::bind(int index, const char* value)
{
    if (value == nullptr)
    {
        return bind(index, nullptr);
    }
    return bind(index, std::string_view(value));
}

statement& statement::bind(int index, std::nullptr_t)
{
    check_bind(sqlite3_bind_null(handle_.get(), index));
    return *this;
}

statement& statement::bind(int index, const std::optional<std::string>& value)
{
    if (!value)
    {
        return bind(index, nullptr);
    }
    return bind(index, std::string_view(*value));
}

statement& statement::bind(int index, const std::optional<std::int64_t>& value)
{
    if (!value)
    {
        return bind(index, nullptr);
    }
    return bind(index, *value);
}

statement& statement::bind(const char* name, std::int64_t value)
{
    return bind(parameter_index(name), value);
}

statement& statement::bind(const char* name, int value) { return bind(parameter_index(name), value); }

statement& statement::bind(const char* name, double value) { return bind(parameter_index(name), value); }

statement& statement::bind(const char* name, std::string_view value)
{
    return bind(parameter_index(name), value);
}

statement& statement::bind(const char* name, const std::string& value)
{
    return bind(parameter_index(name), value);
}

statement& statement::bind(const char* name, const char* value) { return bind(parameter_index(name), value); }

statement& statement::bind(const char* name, std::nullptr_t) { return bind(parameter_index(name), nullptr); }

statement& statement::bind(const char* name, const std::optional<std::string>& value)
{
    return bind(parameter_index(name), value);
}

statement& statement::bind(const char* name, const std::optional<std::int64_t>& value)
{
    return bind(parameter_index(name), value);
}

bool statement::step()
{
    const int result = sqlite3_step(handle_.get());
    if (result == SQLITE_ROW)
    {
        return true;
    }
    if (result == SQLITE_DONE)
    {
        return false;
    }

    // Build the error before resetting, because the reset may replace the connection's message.
    sqlite3* connection = sqlite3_db_handle(handle_.get());
    error failure(sqlite3_extended_errcode(connection), sqlite3_errmsg(connection), std::string(sql()));
    sqlite3_reset(handle_.get());
    report_if_storage_failure(failure);
    throw failure;
}

void statement::execute()
{
    if (column_count() > 0)
    {
        throw std::logic_error(
            "statement::execute() runs statements that return no rows, but this one has result "
            "columns; use step() for it. SQL: " +
            std::string(sql())
        );
    }
    try
    {
        while (step())
        {}
    }
    catch (...)
    {
        reset();
        throw;
    }
    reset();
}

void statement::reset() noexcept
{
    sqlite3_reset(handle_.get());
    sqlite3_clear_bindings(handle_.get());
}

std::int64_t statement::column_int64(int index) const
{
    check_column(index);
    return sqlite3_column_int64(handle_.get(), index);
}

double statement::column_double(int index) const
{
    check_column(index);
    return sqlite3_column_double(handle_.get(), index);
}

std::string statement::column_text(int index) const
{
    check_column(index);
    // Call column_text before column_bytes, as SQLite requires for a correct length.
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(handle_.get(), index));
    const int size = sqlite3_column_bytes(handle_.get(), index);
    if (text == nullptr)
    {
        return {};
    }
    return std::string(text, static_cast<std::size_t>(size));
}

std::optional<std::string> statement::column_optional_text(int index) const
{
    if (column_is_null(index))
    {
        return std::nullopt;
    }
    return column_text(index);
}

std::optional<std::int64_t> statement::column_optional_int64(int index) const
{
    if (column_is_null(index))
    {
        return std::nullopt;
    }
    return column_int64(index);
}

bool statement::column_is_null(int index) const
{
    check_column(index);
    return sqlite3_column_type(handle_.get(), index) == SQLITE_NULL;
}

int statement::column_count() const noexcept { return sqlite3_column_count(handle_.get()); }

std::string_view statement::sql() const noexcept
{
    const char* text = sqlite3_sql(handle_.get());
    return text == nullptr ? std::string_view() : std::string_view(text);
}

}  // namespace bbsync::store

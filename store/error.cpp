#include "store/error.hpp"

#include <sqlite3.h>

#include <atomic>

namespace bbsync::store {
namespace {

std::atomic<storage_failure_handler> installed_handler{nullptr};

class sqlite_error_category final : public std::error_category
{
public:
    const char* name() const noexcept override { return "sqlite"; }

    std::string message(int value) const override { return sqlite3_errstr(value); }
};

std::string describe(int extended_code, const std::string& message, const std::string& sql)
{
    std::string text = message;
    text += " (SQLite error ";
    text += std::to_string(extended_code);
    text += ": ";
    text += sqlite3_errstr(extended_code);
    text += ")";
    if (!sql.empty())
    {
        text += " in SQL: ";
        text += sql;
    }
    return text;
}

}  // namespace

const std::error_category& sqlite_category() noexcept
{
    static const sqlite_error_category category;
    return category;
}

std::error_code make_sqlite_error_code(int extended_code) noexcept
{
    return {extended_code, sqlite_category()};
}

error::error(int extended_code, std::string message, std::string sql)
    : std::system_error(make_sqlite_error_code(extended_code)), sqlite_message_(std::move(message)),
      sql_(std::move(sql)), what_(describe(extended_code, sqlite_message_, sql_))
{}

bool is_storage_failure(int extended_code) noexcept
{
    switch (extended_code & 0xff)
    {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return true;
    default: return false;
    }
}

storage_failure_handler set_storage_failure_handler(storage_failure_handler handler) noexcept
{
    return installed_handler.exchange(handler);
}

void report_if_storage_failure(const error& failure) noexcept
{
    if (const auto handler = installed_handler.load();
        handler != nullptr && is_storage_failure(failure.extended_code()))
    {
        handler(failure);
    }
}

void throw_sqlite_error(sqlite3* connection, int result_code, std::string_view sql)
{
    int code = result_code;
    std::string message = sqlite3_errstr(result_code);
    if (connection != nullptr && sqlite3_errcode(connection) != SQLITE_OK)
    {
        code = sqlite3_extended_errcode(connection);
        message = sqlite3_errmsg(connection);
    }
    error failure(code, std::move(message), std::string(sql));
    report_if_storage_failure(failure);
    throw failure;
}

}  // namespace bbsync::store

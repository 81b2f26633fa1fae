#include "store/error.hpp"

#include <sqlite3.h>

namespace bbsync::store {
namespace {

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

void throw_sqlite_error(sqlite3* connection, int result_code, std::string_view sql)
{
    int code = result_code;
    std::string message = sqlite3_errstr(result_code);
    if (connection != nullptr && sqlite3_errcode(connection) != SQLITE_OK)
    {
        code = sqlite3_extended_errcode(connection);
        message = sqlite3_errmsg(connection);
    }
    throw error(code, std::move(message), std::string(sql));
}

}  // namespace bbsync::store

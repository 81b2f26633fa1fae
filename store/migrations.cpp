#include "store/migrations.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "store/database.hpp"
#include "store/error.hpp"
#include "store/transaction.hpp"

namespace bbsync::embedded {
std::span<const embedded_file> migration_files();
}  // namespace bbsync::embedded

namespace bbsync::store {
namespace {

constexpr std::size_t version_digits = 4;
constexpr std::string_view extension = ".sql";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_description_char(char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_'; }

// Returns the version of a file named NNNN_description.sql. Throws std::invalid_argument for
// any other name.
int parse_version(std::string_view name)
{
    const bool valid = name.size() > version_digits + 1 + extension.size() &&
                       std::all_of(name.begin(), name.begin() + version_digits, is_digit) &&
                       name[version_digits] == '_' && name.ends_with(extension) &&
                       std::all_of(
                           name.begin() + version_digits + 1,
                           name.end() - static_cast<std::ptrdiff_t>(extension.size()),
                           is_description_char
                       );
    if (!valid)
    {
        throw std::invalid_argument(
            "invalid migration file name \"" + std::string(name) +
            "\": rename it to NNNN_description.sql (four digits, then lower-case letters, digits and '_')"
        );
    }
    return std::stoi(std::string(name.substr(0, version_digits)));
}

// Throws std::invalid_argument unless the migrations run 1, 2, 3, ... in order.
void check_sequence(std::span<const migration> migrations)
{
    int expected = 1;
    for (const migration& current : migrations)
    {
        if (current.version < expected)
        {
            throw std::invalid_argument(
                "migration \"" + std::string(current.name) + "\" repeats version " +
                std::to_string(current.version) + "; give every migration its own version"
            );
        }
        if (current.version > expected)
        {
            throw std::invalid_argument(
                "migration version " + std::to_string(expected) + " is missing before \"" +
                std::string(current.name) + "\"; versions must run 1, 2, 3, ... without gaps"
            );
        }
        ++expected;
    }
}

// Applies one migration in its own transaction unless another connection applied it first.
// Returns whether it was applied.
bool apply(database& db, const migration& current)
{
    transaction guard(db, transaction_mode::immediate);
    if (db.user_version() >= current.version)
    {
        return false;
    }
    try
    {
        db.execute(current.sql);
        db.execute("PRAGMA user_version = " + std::to_string(current.version));
    }
    catch (const error& failure)
    {
        throw error(
            failure.extended_code(),
            "migration " + std::string(current.name) +
                " failed and was rolled back: " + failure.sqlite_message(),
            failure.sql()
        );
    }
    guard.commit();
    return true;
}

}  // namespace

std::vector<migration> load_migrations(std::span<const bbsync::embedded_file> files)
{
    std::vector<migration> result;
    result.reserve(files.size());
    for (const bbsync::embedded_file& file : files)
    {
        result.push_back(migration{parse_version(file.name), file.name, file.content});
    }
    std::stable_sort(result.begin(), result.end(), [](const migration& left, const migration& right) {
        return left.version < right.version;
    });
    check_sequence(result);
    return result;
}

int migrate(database& db, std::span<const migration> migrations)
{
    check_sequence(migrations);
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    const int current = db.user_version();
    if (current > newest)
    {
        throw std::runtime_error(
            "database \"" + db.path() + "\" has schema version " + std::to_string(current) +
            ", but this bbsync knows schema versions up to " + std::to_string(newest) +
            ": the database was written by a newer bbsync; upgrade bbsync"
        );
    }

    int applied = 0;
    for (const migration& pending : migrations)
    {
        if (pending.version > current && apply(db, pending))
        {
            ++applied;
        }
    }
    return applied;
}

std::span<const bbsync::embedded_file> project_migrations() { return bbsync::embedded::migration_files(); }

}  // namespace bbsync::store

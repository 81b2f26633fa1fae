#ifndef BBSYNC_STORE_MIGRATIONS_HPP
#define BBSYNC_STORE_MIGRATIONS_HPP

#include <bbsync/embedded_file.hpp>
#include <span>
#include <string_view>
#include <vector>

namespace bbsync::store {

class database;

// One schema change. The views point into the embedded file it came from.
struct migration
{
    int version;
    std::string_view name;  // the file name, e.g. "0001_initial.sql"
    std::string_view sql;
};

// Parses files named NNNN_description.sql (four digits, then lower-case letters, digits and
// '_') into migrations sorted by version. Versions must run 1, 2, 3, ... without gaps. Throws
// std::invalid_argument naming the file for a bad name, a duplicate version or a gap.
std::vector<migration> load_migrations(std::span<const bbsync::embedded_file> files);

// Applies every migration newer than PRAGMA user_version in version order, each in its own
// IMMEDIATE transaction that also sets user_version. Returns the number applied, 0 when the
// database is current. Throws std::invalid_argument when `migrations` is not sorted and
// gap-free from version 1, and std::runtime_error when the database's user_version is higher
// than the newest migration (the database was written by a newer bbsync). Throws error naming
// the migration file when a migration fails; that migration is rolled back and the ones
// before it stay applied. A migration must not change journal_mode or foreign_keys, because
// those settings cannot change inside a transaction.
int migrate(database& db, std::span<const migration> migrations);

// Returns the project's migrations (migrations/*.sql), compiled into the binary.
std::span<const bbsync::embedded_file> project_migrations();

}  // namespace bbsync::store

#endif

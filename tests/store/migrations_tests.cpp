#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/error.hpp"
#include "store/migrations.hpp"
#include "temporary_directory.hpp"

using bbsync::embedded_file;
using bbsync::store::database;
using bbsync::store::load_migrations;
using bbsync::store::migrate;
using bbsync::store::migration;

namespace {

const std::array<embedded_file, 2> good_files{{
    {"0002_add_note.sql", "ALTER TABLE t ADD COLUMN note TEXT;"},
    {"0001_create_t.sql", "CREATE TABLE t (x INTEGER); INSERT INTO t (x) VALUES (1);"},
}};

std::int64_t query_int(database& db, const char* sql)
{
    auto query = db.prepare(sql);
    REQUIRE(query.step());
    return query.column_int64(0);
}

std::string invalid_argument_message(std::span<const embedded_file> files)
{
    try
    {
        load_migrations(files);
    }
    catch (const std::invalid_argument& e)
    {
        return e.what();
    }
    return "no exception";
}

}  // namespace

TEST_CASE("load_migrations sorts files by version", "[store]")
{
    const auto migrations = load_migrations(good_files);

    REQUIRE(migrations.size() == 2);
    CHECK(migrations[0].version == 1);
    CHECK(migrations[0].name == "0001_create_t.sql");
    CHECK(migrations[0].sql == good_files[1].content);
    CHECK(migrations[1].version == 2);
    CHECK(migrations[1].name == "0002_add_note.sql");
}

TEST_CASE("load_migrations rejects bad file names", "[store]")
{
    const std::vector<std::string> bad_names{
        "1_initial.sql",
        "0001initial.sql",
        "0001_.sql",
        "0001_initial.txt",
        "0001_Initial.sql",
        "0001_in-itial.sql",
        "00a1_initial.sql",
        "0001_initial.sql.bak",
        "README.md",
    };
    for (const std::string& name : bad_names)
    {
        INFO("file name: " << name);
        const std::array<embedded_file, 1> files{{{name, "SELECT 1;"}}};
        const std::string message = invalid_argument_message(files);
        CHECK_THAT(message, Catch::Contains(name));
        CHECK_THAT(message, Catch::Contains("NNNN_description.sql"));
    }
}

TEST_CASE("load_migrations rejects a gap", "[store]")
{
    const std::array<embedded_file, 2> files{{
        {"0001_first.sql", "SELECT 1;"},
        {"0003_third.sql", "SELECT 1;"},
    }};
    const std::string message = invalid_argument_message(files);
    CHECK_THAT(message, Catch::Contains("version 2 is missing"));
    CHECK_THAT(message, Catch::Contains("0003_third.sql"));
}

TEST_CASE("load_migrations rejects version 0", "[store]")
{
    const std::array<embedded_file, 1> files{{{"0000_zero.sql", "SELECT 1;"}}};
    CHECK_THAT(invalid_argument_message(files), Catch::Contains("0000_zero.sql"));
}

TEST_CASE("load_migrations rejects a duplicate version", "[store]")
{
    const std::array<embedded_file, 3> files{{
        {"0001_first.sql", "SELECT 1;"},
        {"0002_second.sql", "SELECT 1;"},
        {"0002_other.sql", "SELECT 1;"},
    }};
    const std::string message = invalid_argument_message(files);
    CHECK_THAT(message, Catch::Contains("0002_other.sql"));
    CHECK_THAT(message, Catch::Contains("repeats version 2"));
}

TEST_CASE("load_migrations accepts no files", "[store]") { CHECK(load_migrations({}).empty()); }

TEST_CASE("migrate fills an empty database", "[store]")
{
    auto db = database::open(":memory:");
    const auto migrations = load_migrations(good_files);

    CHECK(migrate(db, migrations) == 2);
    CHECK(db.user_version() == 2);
    CHECK(query_int(db, "SELECT count(*) FROM t WHERE note IS NULL") == 1);
}

TEST_CASE("migrate is a no-op on a current database", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    const std::string path = directory.file("bbsync.db");
    const auto migrations = load_migrations(good_files);
    {
        auto db = database::open(path);
        REQUIRE(migrate(db, migrations) == 2);
    }
    auto db = database::open(path);
    CHECK(migrate(db, migrations) == 0);
    CHECK(db.user_version() == 2);
    CHECK(query_int(db, "SELECT count(*) FROM t") == 1);
}

TEST_CASE("migrate applies only newer migrations", "[store]")
{
    auto db = database::open(":memory:");
    const auto migrations = load_migrations(good_files);
    REQUIRE(migrate(db, std::span(migrations).first(1)) == 1);
    REQUIRE(db.user_version() == 1);

    CHECK(migrate(db, migrations) == 1);
    CHECK(db.user_version() == 2);
}

TEST_CASE("migrate rejects a database from a newer bbsync", "[store]")
{
    auto db = database::open(":memory:");
    db.execute("PRAGMA user_version = 7");
    const auto migrations = load_migrations(good_files);
    try
    {
        migrate(db, migrations);
        FAIL("migrate succeeded");
    }
    catch (const std::runtime_error& e)
    {
        const std::string message = e.what();
        CHECK_THAT(message, Catch::Contains("schema version 7"));
        CHECK_THAT(message, Catch::Contains("up to 2"));
        CHECK_THAT(message, Catch::Contains("newer bbsync"));
        CHECK_THAT(message, Catch::Contains("upgrade bbsync"));
    }
    CHECK(db.user_version() == 7);
}

TEST_CASE("failing migration leaves the previous version intact", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    const std::string path = directory.file("bbsync.db");
    const std::array<embedded_file, 2> files{{
        {"0001_create_t.sql", "CREATE TABLE t (x INTEGER); INSERT INTO t (x) VALUES (1);"},
        {"0002_broken.sql", "UPDATE t SET x = 2; CREATE TABLE u (y INTEGER); CREATE TABLE oops (;"},
    }};
    const auto migrations = load_migrations(files);
    {
        auto db = database::open(path);
        try
        {
            migrate(db, migrations);
            FAIL("migrate succeeded");
        }
        catch (const bbsync::store::error& e)
        {
            CHECK(e.extended_code() == SQLITE_ERROR);
            CHECK_THAT(e.what(), Catch::Contains("0002_broken.sql"));
            CHECK_THAT(e.sql(), Catch::Contains("CREATE TABLE oops"));
        }
        CHECK(sqlite3_get_autocommit(db.native_handle()) != 0);
    }

    auto db = database::open(path);
    CHECK(db.user_version() == 1);
    CHECK(query_int(db, "SELECT x FROM t") == 1);
    CHECK(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'u'") == 0);
}

TEST_CASE("migrate rejects migrations out of order", "[store]")
{
    auto db = database::open(":memory:");
    const std::array<migration, 2> migrations{{
        {2, "0002_second.sql", "SELECT 1;"},
        {1, "0001_first.sql", "SELECT 1;"},
    }};
    CHECK_THROWS_AS(migrate(db, migrations), std::invalid_argument);
    CHECK(db.user_version() == 0);
}

TEST_CASE("project migrations load and apply", "[store]")
{
    const auto migrations = load_migrations(bbsync::store::project_migrations());
    REQUIRE_FALSE(migrations.empty());
    CHECK(migrations.front().name == "0001_initial.sql");

    auto db = database::open(":memory:");
    CHECK(migrate(db, migrations) == static_cast<int>(migrations.size()));
    CHECK(db.user_version() == migrations.back().version);
    CHECK(migrate(db, migrations) == 0);
}

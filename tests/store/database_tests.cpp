#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "store/database.hpp"
#include "store/error.hpp"
#include "temporary_directory.hpp"

using bbsync::store::database;
using bbsync::store::open_options;

namespace {

std::string pragma_text(database& db, const char* sql)
{
    auto query = db.prepare(sql);
    REQUIRE(query.step());
    return query.column_text(0);
}

}  // namespace

TEST_CASE("file database gets the configured pragmas", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    auto db = database::open(directory.file("bbsync.db"));

    CHECK(pragma_text(db, "PRAGMA journal_mode") == "wal");
    CHECK(pragma_text(db, "PRAGMA foreign_keys") == "1");
    CHECK(pragma_text(db, "PRAGMA synchronous") == "2");
    CHECK(pragma_text(db, "PRAGMA busy_timeout") == "5000");
    CHECK(db.path() == directory.file("bbsync.db"));
}

TEST_CASE("in-memory database opens without WAL", "[store]")
{
    auto db = database::open(":memory:");

    CHECK(pragma_text(db, "PRAGMA journal_mode") == "memory");
    CHECK(pragma_text(db, "PRAGMA foreign_keys") == "1");
    CHECK(pragma_text(db, "PRAGMA synchronous") == "2");
}

TEST_CASE("busy timeout follows the options", "[store]")
{
    open_options options;
    options.busy_timeout = std::chrono::milliseconds(250);
    auto db = database::open(":memory:", options);

    CHECK(pragma_text(db, "PRAGMA busy_timeout") == "250");
}

TEST_CASE("execute runs several statements", "[store]")
{
    auto db = database::open(":memory:");
    db.execute(R"sql(
        -- a comment before the first statement
        CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
        INSERT INTO t (name) VALUES ('a');
        INSERT INTO t (name) VALUES ('b');
        -- a trailing comment
    )sql");

    CHECK(db.last_insert_rowid() == 2);
    CHECK(pragma_text(db, "SELECT group_concat(name, ',') FROM t") == "a,b");
}

TEST_CASE("execute discards rows", "[store]")
{
    auto db = database::open(":memory:");
    CHECK_NOTHROW(db.execute("SELECT 1 UNION ALL SELECT 2; SELECT 3"));
}

TEST_CASE("changes counts rows of the last write", "[store]")
{
    auto db = database::open(":memory:");
    db.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)");
    CHECK(db.changes() == 3);

    db.execute("UPDATE t SET x = 0 WHERE x > 1");
    CHECK(db.changes() == 2);
}

TEST_CASE("prepare rejects more than one statement", "[store]")
{
    auto db = database::open(":memory:");
    CHECK_THROWS_AS(db.prepare("SELECT 1; SELECT 2"), std::invalid_argument);
    CHECK_NOTHROW(db.prepare("SELECT 1; -- only a comment follows"));
}

TEST_CASE("prepare rejects empty SQL", "[store]")
{
    auto db = database::open(":memory:");
    CHECK_THROWS_AS(db.prepare(""), std::invalid_argument);
    CHECK_THROWS_AS(db.prepare("  -- nothing"), std::invalid_argument);
}

TEST_CASE("open fails for a missing directory", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    try
    {
        database::open(directory.file("missing/bbsync.db"));
        FAIL("open succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.primary_code() == SQLITE_CANTOPEN);
        CHECK_THAT(e.what(), Catch::Contains(directory.file("missing/bbsync.db")));
    }
}

TEST_CASE("open without create fails for a missing file", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    open_options options;
    options.create = false;
    CHECK_THROWS_AS(database::open(directory.file("absent.db"), options), bbsync::store::error);
}

TEST_CASE("read-only database rejects writes", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    const std::string path = directory.file("bbsync.db");
    {
        auto writer = database::open(path);
        writer.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)");
    }
    open_options options;
    options.read_only = true;
    auto reader = database::open(path, options);

    CHECK(pragma_text(reader, "SELECT x FROM t") == "7");
    try
    {
        reader.execute("INSERT INTO t VALUES (8)");
        FAIL("write succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.primary_code() == SQLITE_READONLY);
    }
}

TEST_CASE("moved database keeps its connection", "[store]")
{
    auto first = database::open(":memory:");
    first.execute("CREATE TABLE t (x INTEGER)");
    database second = std::move(first);

    CHECK(second.native_handle() != nullptr);
    CHECK_NOTHROW(second.execute("INSERT INTO t VALUES (1)"));
}

TEST_CASE("data survives reopening a file", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    const std::string path = directory.file("bbsync.db");
    {
        auto db = database::open(path);
        db.execute("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('kept')");
    }
    auto db = database::open(path);
    CHECK(pragma_text(db, "SELECT x FROM t") == "kept");
}

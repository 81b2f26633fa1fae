#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <string>

#include "store/database.hpp"
#include "store/error.hpp"

using bbsync::store::database;

TEST_CASE("sqlite category names SQLite codes", "[store]")
{
    const std::error_category& category = bbsync::store::sqlite_category();
    CHECK(std::string(category.name()) == "sqlite");
    CHECK(category.message(SQLITE_BUSY) == "database is locked");

    const std::error_code code = bbsync::store::make_sqlite_error_code(SQLITE_CONSTRAINT_UNIQUE);
    CHECK(&code.category() == &category);
    CHECK(code.value() == SQLITE_CONSTRAINT_UNIQUE);
}

TEST_CASE("error carries extended code, message and SQL", "[store]")
{
    auto db = database::open(":memory:");
    db.execute("CREATE TABLE t (id TEXT UNIQUE)");
    const char* sql = "INSERT INTO t (id) VALUES (?)";
    db.prepare(sql).bind(1, "secret-value-1").execute();

    auto insert = db.prepare(sql);
    insert.bind(1, "secret-value-1");
    try
    {
        insert.execute();
        FAIL("duplicate insert succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.extended_code() == SQLITE_CONSTRAINT_UNIQUE);
        CHECK(e.primary_code() == SQLITE_CONSTRAINT);
        CHECK(e.code() == bbsync::store::make_sqlite_error_code(SQLITE_CONSTRAINT_UNIQUE));
        CHECK(e.sqlite_message() == "UNIQUE constraint failed: t.id");
        CHECK(e.sql() == sql);
        CHECK_THAT(e.what(), Catch::Contains("UNIQUE constraint failed: t.id"));
        CHECK_THAT(e.what(), Catch::Contains(sql));
        CHECK_THAT(e.what(), !Catch::Contains("secret-value-1"));
    }
}

TEST_CASE("prepare error names the SQL", "[store]")
{
    auto db = database::open(":memory:");
    try
    {
        db.prepare("SELECT x FROM missing_table");
        FAIL("prepare succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.extended_code() == SQLITE_ERROR);
        CHECK(e.sqlite_message() == "no such table: missing_table");
        CHECK(e.sql() == "SELECT x FROM missing_table");
    }
}

TEST_CASE("execute error names the failing statement", "[store]")
{
    auto db = database::open(":memory:");
    db.execute("CREATE TABLE t (x INTEGER NOT NULL)");
    try
    {
        db.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (NULL); INSERT INTO t VALUES (3)");
        FAIL("execute succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.extended_code() == SQLITE_CONSTRAINT_NOTNULL);
        CHECK(e.sql() == "INSERT INTO t VALUES (NULL);");
    }
    auto query = db.prepare("SELECT count(*) FROM t");
    REQUIRE(query.step());
    CHECK(query.column_int64(0) == 1);
}

TEST_CASE("error is a system_error", "[store]")
{
    auto db = database::open(":memory:");
    CHECK_THROWS_AS(db.execute("NOT SQL"), std::system_error);
}

TEST_CASE("error message reads in one line", "[store]")
{
    const bbsync::store::error e(
        SQLITE_CONSTRAINT_UNIQUE, "UNIQUE constraint failed: t.id", "INSERT INTO t VALUES (?)"
    );
    CHECK(
        std::string(e.what()) == "UNIQUE constraint failed: t.id (SQLite error 2067: constraint failed) in "
                                 "SQL: INSERT INTO t VALUES (?)"
    );
}

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "store/database.hpp"
#include "store/error.hpp"

using bbsync::store::database;

namespace {

database open_with_table()
{
    auto db = database::open(":memory:");
    db.execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, n INTEGER)");
    return db;
}

}  // namespace

TEST_CASE("statement binds and reads back every type", "[store]")
{
    auto db = open_with_table();
    auto insert = db.prepare("INSERT INTO t (i, d, s, n) VALUES (?, ?, ?, ?)");
    insert.bind(1, std::numeric_limits<std::int64_t>::max()).bind(2, 2.5).bind(3, "text").bind(4, nullptr);
    insert.execute();

    auto query = db.prepare("SELECT i, d, s, n FROM t");
    REQUIRE(query.column_count() == 4);
    REQUIRE(query.step());
    CHECK(query.column_int64(0) == std::numeric_limits<std::int64_t>::max());
    CHECK(query.column_double(1) == 2.5);
    CHECK(query.column_text(2) == "text");
    CHECK(query.column_is_null(3));
    CHECK_FALSE(query.column_is_null(2));
    CHECK_FALSE(query.step());
}

TEST_CASE("statement binds parameters by name", "[store]")
{
    auto db = open_with_table();
    auto insert = db.prepare("INSERT INTO t (i, d, s, n) VALUES (:i, :d, :s, :n)");
    insert.bind(":i", 42).bind(":d", 0.5).bind(":s", std::string("named")).bind(":n", std::int64_t{-1});
    insert.execute();

    auto query = db.prepare("SELECT i, d, s, n FROM t");
    REQUIRE(query.step());
    CHECK(query.column_int64(0) == 42);
    CHECK(query.column_double(1) == 0.5);
    CHECK(query.column_text(2) == "named");
    CHECK(query.column_int64(3) == -1);
}

TEST_CASE("text binding copies a temporary", "[store]")
{
    auto db = open_with_table();
    auto insert = db.prepare("INSERT INTO t (s) VALUES (?)");
    {
        std::string temporary(100, 'x');
        insert.bind(1, std::string_view(temporary));
        temporary.assign(100, 'y');
    }
    insert.bind(1, std::string(50, 'z') + "end");
    insert.execute();

    auto query = db.prepare("SELECT s FROM t");
    REQUIRE(query.step());
    CHECK(query.column_text(0) == std::string(50, 'z') + "end");
}

TEST_CASE("text binding keeps embedded NUL bytes", "[store]")
{
    auto db = open_with_table();
    const std::string value("a\0b", 3);
    db.prepare("INSERT INTO t (s) VALUES (?)").bind(1, value).execute();

    auto query = db.prepare("SELECT s FROM t");
    REQUIRE(query.step());
    CHECK(query.column_text(0) == value);
}

TEST_CASE("empty text binds as empty, not NULL", "[store]")
{
    auto db = open_with_table();
    db.prepare("INSERT INTO t (s) VALUES (?)").bind(1, std::string_view()).execute();

    auto query = db.prepare("SELECT s IS NULL, length(s) FROM t");
    REQUIRE(query.step());
    CHECK(query.column_int64(0) == 0);
    CHECK(query.column_int64(1) == 0);
}

TEST_CASE("optional values bind as value or NULL", "[store]")
{
    auto db = open_with_table();
    auto insert = db.prepare("INSERT INTO t (i, s) VALUES (?, ?)");
    insert.bind(1, std::optional<std::int64_t>(5)).bind(2, std::optional<std::string>("five")).execute();
    insert.bind(1, std::optional<std::int64_t>()).bind(2, std::optional<std::string>()).execute();

    auto query = db.prepare("SELECT i, s FROM t ORDER BY rowid");
    REQUIRE(query.step());
    CHECK(query.column_optional_int64(0) == std::optional<std::int64_t>(5));
    CHECK(query.column_optional_text(1) == std::optional<std::string>("five"));
    REQUIRE(query.step());
    CHECK(query.column_optional_int64(0) == std::nullopt);
    CHECK(query.column_optional_text(1) == std::nullopt);
}

TEST_CASE("NULL reads as zero or empty text", "[store]")
{
    auto db = database::open(":memory:");
    auto query = db.prepare("SELECT NULL, NULL, NULL");
    REQUIRE(query.step());
    CHECK(query.column_int64(0) == 0);
    CHECK(query.column_double(1) == 0.0);
    CHECK(query.column_text(2).empty());
}

TEST_CASE("statement is reusable after reset", "[store]")
{
    auto db = open_with_table();
    auto insert = db.prepare("INSERT INTO t (i) VALUES (?)");
    for (int i = 1; i <= 3; ++i)
    {
        insert.bind(1, i);
        insert.execute();
    }

    auto sum = db.prepare("SELECT sum(i) FROM t WHERE i >= ?");
    sum.bind(1, 2);
    REQUIRE(sum.step());
    CHECK(sum.column_int64(0) == 5);
    sum.reset();
    sum.bind(1, 3);
    REQUIRE(sum.step());
    CHECK(sum.column_int64(0) == 3);
}

TEST_CASE("execute clears bindings", "[store]")
{
    auto db = open_with_table();
    auto insert = db.prepare("INSERT INTO t (i) VALUES (?)");
    insert.bind(1, 9).execute();
    insert.execute();

    auto query = db.prepare("SELECT count(*), count(i) FROM t");
    REQUIRE(query.step());
    CHECK(query.column_int64(0) == 2);
    CHECK(query.column_int64(1) == 1);
}

TEST_CASE("execute rejects a statement that returns rows", "[store]")
{
    auto db = open_with_table();
    auto query = db.prepare("SELECT i FROM t");
    CHECK_THROWS_AS(query.execute(), std::logic_error);
}

TEST_CASE("column index outside the result throws", "[store]")
{
    auto db = database::open(":memory:");
    auto query = db.prepare("SELECT 1, 2");
    REQUIRE(query.step());
    CHECK_THROWS_AS(query.column_int64(2), std::out_of_range);
    CHECK_THROWS_AS(query.column_text(-1), std::out_of_range);
    CHECK_THROWS_AS(query.column_is_null(5), std::out_of_range);
}

TEST_CASE("unknown parameter name throws", "[store]")
{
    auto db = open_with_table();
    auto insert = db.prepare("INSERT INTO t (i) VALUES (:i)");
    try
    {
        insert.bind(":missing", 1);
        FAIL("bind succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.extended_code() == SQLITE_RANGE);
        CHECK_THAT(e.what(), Catch::Contains(":missing"));
    }
}

TEST_CASE("parameter index out of range throws", "[store]")
{
    auto db = open_with_table();
    auto insert = db.prepare("INSERT INTO t (i) VALUES (?)");
    try
    {
        insert.bind(2, 1);
        FAIL("bind succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.extended_code() == SQLITE_RANGE);
    }
}

TEST_CASE("statement returns its SQL", "[store]")
{
    auto db = database::open(":memory:");
    auto query = db.prepare("SELECT 1");
    CHECK(query.sql() == "SELECT 1");
}

TEST_CASE("statement steps again after an error", "[store]")
{
    auto db = database::open(":memory:");
    db.execute("CREATE TABLE u (x INTEGER UNIQUE); INSERT INTO u VALUES (1)");
    auto insert = db.prepare("INSERT INTO u VALUES (?)");
    insert.bind(1, 1);
    CHECK_THROWS_AS(insert.step(), bbsync::store::error);

    db.execute("DELETE FROM u");
    CHECK_FALSE(insert.step());
    CHECK(db.changes() == 1);
}

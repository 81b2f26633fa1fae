#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <stdexcept>
#include <string>

#include "store/database.hpp"
#include "store/error.hpp"
#include "store/transaction.hpp"
#include "temporary_directory.hpp"

using bbsync::store::database;
using bbsync::store::open_options;
using bbsync::store::transaction;
using bbsync::store::transaction_mode;

namespace {

std::int64_t count_rows(database& db)
{
    auto query = db.prepare("SELECT count(*) FROM t");
    REQUIRE(query.step());
    return query.column_int64(0);
}

bool in_transaction(database& db) { return sqlite3_get_autocommit(db.native_handle()) == 0; }

open_options without_waiting()
{
    open_options options;
    options.busy_timeout = std::chrono::milliseconds(0);
    return options;
}

}  // namespace

TEST_CASE("transaction keeps committed writes", "[store]")
{
    auto db = database::open(":memory:");
    db.execute("CREATE TABLE t (x INTEGER)");
    {
        transaction guard(db);
        db.execute("INSERT INTO t VALUES (1)");
        guard.commit();
        CHECK_FALSE(in_transaction(db));
    }
    CHECK(count_rows(db) == 1);
}

TEST_CASE("transaction rolls back when not committed", "[store]")
{
    auto db = database::open(":memory:");
    db.execute("CREATE TABLE t (x INTEGER)");
    {
        transaction guard(db);
        db.execute("INSERT INTO t VALUES (1)");
        CHECK(in_transaction(db));
    }
    CHECK_FALSE(in_transaction(db));
    CHECK(count_rows(db) == 0);
}

TEST_CASE("transaction rolls back when an exception unwinds", "[store]")
{
    auto db = database::open(":memory:");
    db.execute("CREATE TABLE t (x INTEGER)");
    try
    {
        transaction guard(db);
        db.execute("INSERT INTO t VALUES (1)");
        throw std::runtime_error("work failed");
    }
    catch (const std::runtime_error&)
    {}
    CHECK_FALSE(in_transaction(db));
    CHECK(count_rows(db) == 0);
}

TEST_CASE("transaction rejects a second commit", "[store]")
{
    auto db = database::open(":memory:");
    transaction guard(db);
    guard.commit();
    CHECK_THROWS_AS(guard.commit(), std::logic_error);
}

TEST_CASE("transaction cannot nest on one connection", "[store]")
{
    auto db = database::open(":memory:");
    transaction outer(db);
    CHECK_THROWS_AS(transaction(db), bbsync::store::error);
    CHECK(in_transaction(db));
}

TEST_CASE("failed commit rolls back in destructor", "[store]")
{
    auto db = database::open(":memory:");
    db.execute(R"sql(
        CREATE TABLE parent (id INTEGER PRIMARY KEY);
        CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
    )sql");
    {
        transaction guard(db);
        db.execute("INSERT INTO child VALUES (99)");
        try
        {
            guard.commit();
            FAIL("commit succeeded");
        }
        catch (const bbsync::store::error& e)
        {
            CHECK(e.extended_code() == SQLITE_CONSTRAINT_FOREIGNKEY);
        }
        CHECK(in_transaction(db));
    }
    CHECK_FALSE(in_transaction(db));
    auto query = db.prepare("SELECT count(*) FROM child");
    REQUIRE(query.step());
    CHECK(query.column_int64(0) == 0);
}

TEST_CASE("immediate transaction locks at BEGIN", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    const std::string path = directory.file("bbsync.db");
    auto first = database::open(path);
    first.execute("CREATE TABLE t (x INTEGER)");
    auto second = database::open(path, without_waiting());

    transaction holder(first, transaction_mode::immediate);
    try
    {
        transaction waiter(second, transaction_mode::immediate);
        FAIL("second BEGIN IMMEDIATE succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.primary_code() == SQLITE_BUSY);
    }
    CHECK_THROWS_AS(second.execute("INSERT INTO t VALUES (1)"), bbsync::store::error);
}

TEST_CASE("deferred transaction locks later", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    const std::string path = directory.file("bbsync.db");
    auto first = database::open(path);
    first.execute("CREATE TABLE t (x INTEGER)");
    auto second = database::open(path, without_waiting());

    transaction reader(first, transaction_mode::deferred);
    CHECK_NOTHROW(second.execute("INSERT INTO t VALUES (1)"));
}

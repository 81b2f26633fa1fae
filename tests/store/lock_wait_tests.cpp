#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <sys/wait.h>
#include <thread>

#include "store/database.hpp"
#include "store/error.hpp"
#include "store/transaction.hpp"
#include "temporary_directory.hpp"

using bbsync::store::database;
using bbsync::store::open_options;
using namespace std::chrono_literals;

namespace {

constexpr auto lock_hold_time = 2s;

// Runs in the forked child: takes the write lock with BEGIN IMMEDIATE, writes one byte to
// `ready_fd`, holds the lock for lock_hold_time, then commits. Never returns.
[[noreturn]] void hold_write_lock(const std::string& path, int ready_fd)
{
    int status = 1;
    try
    {
        auto db = database::open(path);
        {
            bbsync::store::transaction guard(db);
            db.execute("INSERT INTO t (who) VALUES ('child')");
            const char ready = 'r';
            if (write(ready_fd, &ready, 1) == 1)
            {
                std::this_thread::sleep_for(lock_hold_time);
                guard.commit();
                status = 0;
            }
        }
    }
    catch (...)
    {
        status = 2;
    }
    // _exit skips Catch2's and the parent's atexit handlers, which belong to the parent.
    _exit(status);
}

// A child process holding the write lock of a database file; the constructor returns once
// the child holds it.
class lock_holder
{
public:
    explicit lock_holder(const std::string& path)
    {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        child_ = fork();
        REQUIRE(child_ >= 0);
        if (child_ == 0)
        {
            close(fds[0]);
            hold_write_lock(path, fds[1]);
        }
        close(fds[1]);
        char ready = 0;
        const ssize_t received = read(fds[0], &ready, 1);
        close(fds[0]);
        REQUIRE(received == 1);
    }

    lock_holder(const lock_holder&) = delete;
    lock_holder& operator=(const lock_holder&) = delete;

    ~lock_holder()
    {
        if (child_ > 0)
        {
            int ignored = 0;
            waitpid(child_, &ignored, 0);
        }
    }

    // Waits for the child and returns its exit code, or -1 when it did not exit normally.
    int wait_exit_code()
    {
        int status = 0;
        const pid_t waited = waitpid(child_, &status, 0);
        child_ = -1;
        if (waited <= 0 || !WIFEXITED(status))
        {
            return -1;
        }
        return WEXITSTATUS(status);
    }

private:
    pid_t child_ = -1;
};

// Creates the table the child writes to. The connection is closed again before the fork,
// because SQLite connections must not be carried into a forked child.
std::string create_database(const bbsync::store::test::temporary_directory& directory)
{
    const std::string path = directory.file("bbsync.db");
    auto db = database::open(path);
    db.execute("CREATE TABLE t (who TEXT NOT NULL)");
    return path;
}

}  // namespace

TEST_CASE("write waits for another process's lock", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    const std::string path = create_database(directory);

    lock_holder holder(path);
    auto db = database::open(path);
    const auto start = std::chrono::steady_clock::now();
    db.execute("INSERT INTO t (who) VALUES ('parent')");
    const auto waited = std::chrono::steady_clock::now() - start;

    CHECK(waited >= 1s);
    CHECK(waited < 5s);
    CHECK(holder.wait_exit_code() == 0);
    auto rows = db.prepare("SELECT group_concat(who, ',') FROM (SELECT who FROM t ORDER BY rowid)");
    REQUIRE(rows.step());
    CHECK(rows.column_text(0) == "child,parent");
}

TEST_CASE("write fails BUSY after the timeout", "[store]")
{
    bbsync::store::test::temporary_directory directory;
    const std::string path = create_database(directory);

    lock_holder holder(path);
    open_options options;
    options.busy_timeout = 300ms;
    auto db = database::open(path, options);
    const auto start = std::chrono::steady_clock::now();
    try
    {
        db.execute("INSERT INTO t (who) VALUES ('parent')");
        FAIL("insert succeeded while another process held the write lock");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.primary_code() == SQLITE_BUSY);
    }
    const auto waited = std::chrono::steady_clock::now() - start;

    CHECK(waited >= 250ms);
    CHECK(waited < lock_hold_time);
    CHECK(holder.wait_exit_code() == 0);
}

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "daemon/service/config.hpp"
#include "daemon/sync/sync_engine.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

TEST_CASE("progress line counts patients, EOBs and errors", "[daemon][engine]")
{
    bbsync::sync_progress progress;
    CHECK(bbsync::format_progress_line(progress) == "bbsync: 0/0 patients, 0 EOBs, 0 errors");
    progress.patients_total = 10;
    progress.patients_done = 3;
    progress.eobs = 1;
    progress.errors = 1;
    CHECK(bbsync::format_progress_line(progress) == "bbsync: 3/10 patients, 1 EOB, 1 error");
    progress.eobs = 250;
    progress.errors = 2;
    CHECK(bbsync::format_progress_line(progress) == "bbsync: 3/10 patients, 250 EOBs, 2 errors");
}

TEST_CASE("progress stays off when stderr is a pipe", "[daemon][engine]")
{
    boost::asio::io_context context;
    bbsync::config settings;
    auto db = bbsync::store::database::open(":memory:");
    bbsync::store::migrate(db, bbsync::store::load_migrations(bbsync::store::project_migrations()));
    bbsync::sync_engine engine(context.get_executor(), settings, db);

    int fds[2] = {-1, -1};
    REQUIRE(::pipe(fds) == 0);
    CHECK_FALSE(engine.show_progress_on(fds[1]));
    CHECK_FALSE(engine.show_progress_on(-1));

    // A run with no patient due writes nothing to the pipe.
    bool finished = false;
    boost::asio::co_spawn(context, engine.run_once(), [&](std::exception_ptr error, bbsync::run_totals) {
        finished = error == nullptr;
    });
    context.run();
    CHECK(finished);
    ::close(fds[1]);
    REQUIRE(::fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
    char buffer[64];
    CHECK(::read(fds[0], buffer, sizeof buffer) == 0);
    ::close(fds[0]);
}

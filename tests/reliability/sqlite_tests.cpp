#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <sys/wait.h>
#include <thread>

#include "../integration/child_process.hpp"
#include "reliability_fleet.hpp"

namespace {

namespace fs = std::filesystem;
using namespace bbsync::reliability_tests;
using namespace std::chrono_literals;

constexpr int eobs_per_patient = 6;

int setting(const char* name, int fallback)
{
    const char* text = std::getenv(name);
    const int value = text != nullptr ? std::atoi(text) : 0;
    return value > 0 ? value : fallback;
}

// A forked child that opens the database with the SQLite C API and keeps a transaction open for a
// while: the write lock (BEGIN IMMEDIATE), or a read snapshot that keeps the WAL from being
// checkpointed past it. The constructor returns once the transaction is open.
class transaction_holder
{
public:
    enum class kind
    {
        write_lock,
        read_snapshot
    };

    transaction_holder(const fs::path& database, kind what, std::chrono::milliseconds hold)
    {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0)
        {
            ::close(fds[0]);
            hold_in_child(database, what, hold, fds[1]);
        }
        ::close(fds[1]);
        char ready = 0;
        const auto got = ::read(fds[0], &ready, 1);
        ::close(fds[0]);
        REQUIRE(got == 1);
    }

    ~transaction_holder() { wait(); }

    // Waits for the child to end its transaction and exit. Returns its exit status.
    int wait()
    {
        if (pid_ > 0)
        {
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        return exit_status_;
    }

private:
    [[noreturn]] static void hold_in_child(
        const fs::path& database, kind what, std::chrono::milliseconds hold, int ready_fd
    )
    {
        sqlite3* db = nullptr;
        int status = 1;
        if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK)
        {
            sqlite3_busy_timeout(db, 10000);
            const char* begin =
                what == kind::write_lock ? "BEGIN IMMEDIATE" : "BEGIN; SELECT count(*) FROM sync_jobs";
            if (sqlite3_exec(db, begin, nullptr, nullptr, nullptr) == SQLITE_OK)
            {
                const char ready = 'r';
                if (::write(ready_fd, &ready, 1) == 1)
                {
                    std::this_thread::sleep_for(hold);
                    status = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK ? 0 : 2;
                }
            }
        }
        sqlite3_close(db);
        // _exit skips the atexit handlers of Catch2, which belong to the parent.
        ::_exit(status);
    }

    int pid_ = -1;
    int exit_status_ = -1;
};

std::uintmax_t file_size_or_zero(const fs::path& path)
{
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    return ec ? 0 : size;
}

// Checks what a run that hit an injected I/O failure left behind: the database is intact, a
// job that Salesforce saw as Completed is Completed locally too, and a clean rerun delivers
// everything exactly once.
void check_after_io_failure(
    reliability_fleet& fleet,
    const bbsync_run& failed,
    const std::string& shim_line,
    const std::string& sqlite_message,
    int patients
)
{
    const auto log = read_file(failed.stderr_path);
    INFO("failed run standard error: " << failed.stderr_path);
    CHECK(log.find(shim_line) != std::string::npos);
    // bbsync names SQLite's own error text in its log.
    CHECK(log.find(sqlite_message) != std::string::npos);
    // The process ended by itself with a status, not by a signal such as SIGABRT or SIGSEGV.
    CHECK(failed.exit_code >= 0);
    CHECK(failed.exit_code < 128);

    CHECK(fleet.sql("PRAGMA integrity_check") == "ok\n");

    // Mirrored records come from committed jobs only.
    const auto mirrored = fleet.sandbox.get("salesforce", "/_sandbox/jobs");
    REQUIRE(mirrored.status == 200);
    std::set<std::string> completed_locally;
    for (const auto& job : fleet.jobs())
    {
        if (text_at(job, "status") == "Completed")
        {
            completed_locally.insert(text_at(job, "job_id"));
        }
    }
    const auto mirrored_document = mirrored.json();
    for (const auto& record : mirrored_document.at("jobs").as_array())
    {
        if (text_at(record, "Status__c") == "Completed")
        {
            INFO("PatientSyncJob__c " << text_at(record, "JobId__c"));
            CHECK(completed_locally.count(text_at(record, "JobId__c")) == 1);
        }
    }

    // A clean run recovers: interrupted jobs are failed and every patient syncs, except one
    // whose rotated refresh token could not be committed. The payer has spent its old token,
    // so that patient must fail with consent.rotation_lost.
    const auto recovery = fleet.run({"run", "--once"});
    INFO("recovery run standard error: " << recovery.stderr_path);
    CHECK((recovery.exit_code == 0 || recovery.exit_code == 1));
    const auto jobs = fleet.jobs();
    CHECK(count_by(jobs, "status").count("InProgress") == 0);
    const auto consent = fleet.consent_states();
    std::set<std::string> seen;
    int lost = 0;
    for (const auto& job : jobs)
    {
        const auto patient = text_at(job, "sf_patient_id");
        if (seen.insert(patient).second)
        {
            INFO("newest job " << text_at(job, "job_id") << " of " << patient);
            if (consent.at(patient) == "active")
            {
                CHECK(text_at(job, "status") == "Completed");
            }
            else
            {
                ++lost;
                CHECK(text_at(job, "last_error_class") == "consent.rotation_lost");
            }
        }
    }
    CHECK(seen.size() == static_cast<std::size_t>(patients));
    const auto state = fleet.sandbox.state();
    CHECK(number_at(state, "duplicates_total") == 0);
    CHECK(
        number_at(state, "records", "Encounter") >=
        static_cast<std::int64_t>(patients - lost) * eobs_per_patient
    );
    if (lost == 0)
    {
        CHECK(number_at(state, "records", "Encounter") == number_at(state, "eobs_total"));
    }
    CHECK(fleet.sql("PRAGMA integrity_check") == "ok\n");
}

// Runs `run --once` with the shim. A run still going after 60 s is killed and reported as a
// stall, so that the checks of what it left behind still run.
bbsync_run run_with_io_failure(reliability_fleet& fleet, const std::vector<std::string>& environment)
{
    bbsync_run result;
    const int pid = fleet.start({"run", "--once"}, environment, &result.stderr_path);
    result.exit_code = bbsync::integration_tests::wait_for_exit(pid, std::chrono::seconds(60));
    const bool stalled = result.exit_code == -1;
    INFO("run with the shim standard error: " << result.stderr_path);
    CHECK_FALSE(stalled);
    if (stalled)
    {
        result.exit_code = reliability_fleet::kill_now(pid);
    }
    return result;
}

// The preload library, with the sanitizer runtime's link-order check off: an
// AddressSanitizer build otherwise refuses to start with another library preloaded first.
std::vector<std::string> shim_environment(const reliability_fleet& fleet)
{
    return {
        "LD_PRELOAD=" BBSYNC_IO_FAULT_SHIM,
        "ASAN_OPTIONS=verify_asan_link_order=0",
        "IO_FAULT_SHIM_PATH_PREFIX=" + fleet.workspace.database_path().string(),
    };
}

}  // namespace

TEST_CASE("sync waits for a 3 s write lock", "[reliability][sqlite]")
{
    constexpr int patients = 30;
    reliability_fleet fleet("sqlite-lock", patients, eobs_per_patient);
    const auto started = std::chrono::steady_clock::now();
    const int pid = fleet.start({"run", "--once"});
    std::this_thread::sleep_for(300ms);
    REQUIRE(bbsync::integration_tests::wait_for_exit(pid, 0ms) == -1);

    transaction_holder holder(fleet.workspace.database_path(), transaction_holder::kind::write_lock, 3s);
    const int exit_code = bbsync::integration_tests::wait_for_exit(pid, std::chrono::milliseconds(300'000));
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    CHECK(holder.wait() == 0);
    INFO("run took " << took.count() << " ms");
    CHECK(exit_code == 0);

    const auto jobs = fleet.jobs();
    CHECK(jobs.size() == static_cast<std::size_t>(patients));
    CHECK(count_by(jobs, "status")["Completed"] == patients);
    CHECK(fleet.sql("PRAGMA integrity_check") == "ok\n");
}

TEST_CASE("pinned WAL shrinks after the reader leaves", "[reliability][sqlite]")
{
    // CI pins the WAL for 10 s; scripts/reliability/wal_pin.sh runs the 60 s variant.
    const int pin_seconds = setting("BBSYNC_WAL_PIN_SECONDS", 10);
    constexpr int patients = 30;
    reliability_fleet fleet("sqlite-wal", patients, eobs_per_patient);
    const auto wal = fs::path(fleet.workspace.database_path().string() + "-wal");

    // Syncs run back to back while the reader keeps its snapshot.
    std::uintmax_t pinned_size = 0;
    int pinned_runs = 0;
    {
        transaction_holder reader(
            fleet.workspace.database_path(),
            transaction_holder::kind::read_snapshot,
            std::chrono::seconds(pin_seconds)
        );
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(pin_seconds);
        while (std::chrono::steady_clock::now() < deadline)
        {
            fleet.workspace.make_all_patients_due();
            const auto run = fleet.run({"run", "--once"});
            INFO("pinned run standard error: " << run.stderr_path);
            CHECK(run.exit_code == 0);
            ++pinned_runs;
            pinned_size = std::max(pinned_size, file_size_or_zero(wal));
        }
        CHECK(reader.wait() == 0);
    }

    // With the reader gone, one more run checkpoints the whole WAL.
    fleet.workspace.make_all_patients_due();
    const auto after = fleet.run({"run", "--once"});
    CHECK(after.exit_code == 0);
    const auto checkpoint = fleet.sql("PRAGMA wal_checkpoint(PASSIVE)");
    const auto after_size = file_size_or_zero(wal);
    std::cout << "WAL pin: " << pin_seconds << " s, " << pinned_runs << " runs, WAL reached " << pinned_size
              << " bytes while pinned and is " << after_size << " bytes after; checkpoint " << checkpoint;
    CHECK(pinned_size > 0);
    // busy = 0, and every frame in the WAL was checkpointed.
    CHECK(checkpoint.rfind("0|", 0) == 0);
    // SQLite's default wal_autocheckpoint is 1000 pages of 4096 bytes.
    CHECK(after_size <= 1000u * 4096u + 32u);
    CHECK(fleet.sql("PRAGMA integrity_check") == "ok\n");
}

TEST_CASE("disk full during a sync leaves the database intact", "[reliability][sqlite][io_failure]")
{
    constexpr int patients = 30;
    reliability_fleet fleet("sqlite-full", patients, eobs_per_patient);
    auto environment = shim_environment(fleet);
    environment.push_back(
        "IO_FAULT_SHIM_ENOSPC_AFTER=" + std::to_string(setting("BBSYNC_ENOSPC_AFTER", 60000))
    );
    const auto failed = run_with_io_failure(fleet, environment);
    check_after_io_failure(
        fleet, failed, "io fault shim: returning ENOSPC", "database or disk is full", patients
    );
}

TEST_CASE("fsync failure during a sync leaves the database intact", "[reliability][sqlite][io_failure]")
{
    constexpr int patients = 30;
    reliability_fleet fleet("sqlite-eio", patients, eobs_per_patient);
    auto environment = shim_environment(fleet);
    environment.push_back("IO_FAULT_SHIM_EIO_AFTER=" + std::to_string(setting("BBSYNC_EIO_AFTER", 20)));
    const auto failed = run_with_io_failure(fleet, environment);
    check_after_io_failure(fleet, failed, "io fault shim: returning EIO", "disk I/O error", patients);
}

#include <catch2/catch.hpp>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "../integration/child_process.hpp"
#include "reliability_fleet.hpp"

using namespace bbsync::reliability_tests;
using namespace std::chrono_literals;

TEST_CASE("SIGTERM mid-sync leaves no job InProgress", "[reliability][shutdown]")
{
    constexpr int patients = 200;
    constexpr int eobs_per_patient = 20;
    reliability_fleet fleet("sigterm", patients, eobs_per_patient);
    fleet.workspace.append_config("shutdown.gracePeriod = 3\n");
    // Slow payer pages keep the 200 jobs in flight long enough for the signal to land mid-sync.
    fleet.set_faults({"payer:/v2/fhir/ExplanationOfBenefit:all:latency=150"});

    std::filesystem::path log;
    const int pid = fleet.start({"run", "--once"}, {}, &log);
    std::this_thread::sleep_for(2s);
    REQUIRE(::kill(pid, SIGTERM) == 0);

    // The grace period is 3 s; the rest of the allowance covers cancelling and recording.
    const auto started = std::chrono::steady_clock::now();
    const int exit_code = bbsync::integration_tests::wait_for_exit(pid, 10s);
    const auto took = std::chrono::steady_clock::now() - started;
    INFO("bbsync standard error: " << log);
    REQUIRE(exit_code != -1);
    CHECK(exit_code == 0);
    CHECK(took < 6s);
    CHECK(fleet.sql("SELECT count(*) FROM sync_jobs WHERE status = 'InProgress'") == "0\n");

    const auto stopped_state = fleet.sandbox.state();
    const auto written_before = number_at(stopped_state, "records", "Encounter");
    INFO("Encounters written before the stop: " << written_before);
    CHECK(written_before < patients * eobs_per_patient);

    // A restart finishes the rest; jobs cut off by the stop are due again at once.
    fleet.set_faults({});
    fleet.workspace.make_all_patients_due();
    const auto restart = fleet.run({"run", "--once"});
    INFO("restart standard error: " << restart.stderr_path);
    CHECK(restart.exit_code == 0);

    const auto state = fleet.sandbox.state();
    CHECK(number_at(state, "records", "Encounter") == patients * eobs_per_patient);
    CHECK(number_at(state, "duplicates_total") == 0);
    CHECK(fleet.sql("SELECT count(*) FROM sync_jobs WHERE status = 'InProgress'") == "0\n");
    CHECK(fleet.sql("PRAGMA integrity_check") == "ok\n");
}

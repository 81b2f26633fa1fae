#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "../integration/child_process.hpp"
#include "reliability_fleet.hpp"

namespace {

using namespace bbsync::reliability_tests;
using namespace std::chrono_literals;

constexpr int eobs_per_patient = 6;

// Returns the environment variable `name` as a positive integer, or `fallback`.
int setting(const char* name, int fallback)
{
    const char* text = std::getenv(name);
    const int value = text != nullptr ? std::atoi(text) : 0;
    return value > 0 ? value : fallback;
}

}  // namespace

// The default is the short variant for CI. scripts/reliability/crash_loop.sh sets
// BBSYNC_CRASH_LOOP_KILLS=50 and BBSYNC_CRASH_LOOP_PATIENTS=200 for the full check.
TEST_CASE("sync survives repeated SIGKILL", "[reliability][crash_loop]")
{
    const int kills_wanted = setting("BBSYNC_CRASH_LOOP_KILLS", 5);
    const int patients = setting("BBSYNC_CRASH_LOOP_PATIENTS", 40);
    const int seed = setting("BBSYNC_CRASH_LOOP_SEED", 11);
    // Kills land uniformly within this many milliseconds after the start of a run.
    const int max_kill_delay_ms = setting("BBSYNC_CRASH_LOOP_MAX_DELAY_MS", 3000);
    INFO(kills_wanted << " kills, " << patients << " patients, seed " << seed);

    reliability_fleet fleet("crash-loop", patients, eobs_per_patient);
    std::mt19937 random(static_cast<std::mt19937::result_type>(seed));
    std::uniform_int_distribution<int> kill_delay(20, max_kill_delay_ms);

    // Kill a `run --once` at a random moment, again and again. A run that finished before its
    // kill time ends a pass; the patients are then made due so the next run has work again.
    int kills = 0;
    int finished_runs = 0;
    const auto started = std::chrono::steady_clock::now();
    while (kills < kills_wanted)
    {
        const int pid = fleet.start({"run", "--once"});
        const auto delay = std::chrono::milliseconds(kill_delay(random));
        int exit_code = bbsync::integration_tests::wait_for_exit(pid, delay);
        if (exit_code == -1)
        {
            // The run may still finish on its own between the wait and the signal.
            exit_code = reliability_fleet::kill_now(pid);
            if (exit_code == 128 + 9)
            {
                ++kills;
                continue;
            }
        }
        INFO("run " << finished_runs + 1 << " exited with " << exit_code);
        CHECK((exit_code == 0 || exit_code == 1));
        ++finished_runs;
        fleet.workspace.make_all_patients_due();
    }
    const auto killing_time = std::chrono::steady_clock::now() - started;

    // Clean runs: the first finishes the interrupted work, the second proves every patient
    // with consent can still sync.
    const auto recovery = fleet.run({"run", "--once"});
    INFO("recovery run standard error: " << recovery.stderr_path);
    CHECK((recovery.exit_code == 0 || recovery.exit_code == 1));
    fleet.workspace.make_all_patients_due();
    const auto check = fleet.run({"run", "--once"});
    INFO("check run standard error: " << check.stderr_path);
    CHECK(check.exit_code == 0);

    // Job history: nothing left running, and the check run completed every active patient.
    const auto jobs = fleet.jobs();
    const auto statuses = count_by(jobs, "status");
    CHECK(statuses.count("InProgress") == 0);
    CHECK(statuses.count("New") == 0);
    std::set<std::string> seen;
    std::set<std::string> rotation_lost;
    std::set<std::string> interrupted;
    for (const auto& job : jobs)
    {
        if (text_at(job, "last_error_class") == "consent.rotation_lost")
        {
            rotation_lost.insert(text_at(job, "sf_patient_id"));
        }
        if (text_at(job, "last_error_class") == "job.interrupted")
        {
            interrupted.insert(text_at(job, "sf_patient_id"));
        }
    }
    const auto consent = fleet.consent_states();
    int renewal_required = 0;
    int renewal_without_record = 0;
    for (const auto& job : jobs)
    {
        // Jobs come newest first, so the first job of a patient is from the check run.
        const auto patient = text_at(job, "sf_patient_id");
        if (!seen.insert(patient).second)
        {
            continue;
        }
        INFO("patient " << patient << ", newest job " << text_at(job, "job_id"));
        if (consent.at(patient) == "active")
        {
            CHECK(text_at(job, "status") == "Completed");
        }
        else
        {
            // Only a kill inside the refresh window may cost a patient its consent. A kill
            // between committing the renewal mark and finishing the job leaves only
            // job.interrupted in the history, so such patients are counted, not failed.
            ++renewal_required;
            if (rotation_lost.count(patient) == 0)
            {
                ++renewal_without_record;
                CHECK(interrupted.count(patient) == 1);
            }
        }
    }
    CHECK(seen.size() == static_cast<std::size_t>(patients));

    // Sandbox: every record exactly once. A patient whose token was lost may miss some EOBs,
    // so the exact count holds only when no patient lost its token.
    const auto state = fleet.sandbox.state();
    CHECK(number_at(state, "duplicates_total") == 0);
    const auto encounters = number_at(state, "records", "Encounter");
    const auto eobs = number_at(state, "eobs_total");
    CHECK(encounters >= static_cast<std::int64_t>(patients - renewal_required) * eobs_per_patient);
    CHECK(encounters <= eobs);
    if (renewal_required == 0)
    {
        CHECK(encounters == eobs);
    }
    const auto& tokens = state.at("tokens").as_object();
    // Each lost token is rejected once when its patient next refreshes, or more often when a
    // kill also hit the moment between that rejection and its commit.
    const auto invalid_grants = number_at(tokens, "payer_refresh_rejections", "invalid_grant");
    CHECK(invalid_grants >= renewal_required);
    if (renewal_required == 0)
    {
        CHECK(invalid_grants == 0);
    }
    // The sandbox counts each reused refresh token as a rejected request too; nothing else
    // may be rejected.
    CHECK(number_at(state, "rejected_total") == invalid_grants);

    CHECK(fleet.sql("PRAGMA integrity_check") == "ok\n");

    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(killing_time).count();
    std::cout << "crash loop: " << kills << " kills and " << finished_runs << " finished runs in " << seconds
              << " s; " << renewal_required << " of " << patients
              << " patients lost their token to a kill in the refresh window; " << encounters
              << " Encounters for " << eobs << " EOBs; duplicates " << number_at(state, "duplicates_total")
              << "\n";
}

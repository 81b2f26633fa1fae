#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "notify_listener.hpp"
#include "reliability_fleet.hpp"

namespace {

using namespace bbsync::reliability_tests;
using namespace std::chrono_literals;

constexpr int eobs_per_patient = 6;
constexpr auto watchdog_interval = 3s;

// Faults that a sync must absorb: each is retried, fails the job cleanly, or leaves it
// PartiallyCompleted. The token route only gets a fault that the sandbox returns before
// handling the request, because a refresh that rotated the token and then lost its response
// would cost the patient its consent (the crash-window tests cover that case).
const std::vector<std::string> fault_candidates = {
    "payer:/v2/fhir/ExplanationOfBenefit:p=P:status=503",
    "payer:/v2/fhir/ExplanationOfBenefit:p=P:status=429:retry_after=1",
    "payer:/v2/fhir/ExplanationOfBenefit:p=P:reset",
    "payer:/v2/fhir/ExplanationOfBenefit:p=P:truncate",
    "payer:/v2/fhir/ExplanationOfBenefit:p=P:malformed_json",
    "payer:/v2/fhir/ExplanationOfBenefit:p=P:close_no_notify",
    "payer:/v2/fhir/Patient:p=P:status=502",
    "payer:/v2/fhir/Coverage:p=P:status=503",
    "payer:/v2/o/token/:p=P:status=503",
    "healthcloud:/bundle/fhir-r4/v1/Bundle:p=P:status=503",
    "healthcloud:/bundle/fhir-r4/v1/Bundle:p=P:status=429",
    "healthcloud:/bundle/fhir-r4/v1/Bundle:p=P:entry_400",
    "healthcloud:/bundle/fhir-r4/v1/Bundle:p=P:reset",
    "salesforce:/services/data:p=P:status=503",
    "salesforce:/services/oauth2/token:p=P:status=503",
};

int setting(const char* name, int fallback)
{
    const char* text = std::getenv(name);
    const int value = text != nullptr ? std::atoi(text) : 0;
    return value > 0 ? value : fallback;
}

// Picks 8 of the candidates with a probability from 0.02 to 0.10 each, from `seed`.
std::vector<std::string> fault_mix(unsigned seed)
{
    std::mt19937 random(seed);
    auto pool = fault_candidates;
    std::shuffle(pool.begin(), pool.end(), random);
    pool.resize(8);
    std::uniform_int_distribution<int> percent(2, 10);
    for (auto& spec : pool)
    {
        const int p = percent(random);
        spec.replace(
            spec.find(":p=P:"), 5, ":p=0." + std::string(p < 10 ? "0" : "") + std::to_string(p) + ":"
        );
    }
    return pool;
}

}  // namespace

TEST_CASE("random fault mix then clean rerun", "[reliability][faults]")
{
    const int patients = setting("BBSYNC_FAULT_MIX_PATIENTS", 100);
    const int seed = setting("BBSYNC_FAULT_MIX_SEED", 7);
    reliability_fleet fleet("fault-mix", patients, eobs_per_patient, seed);
    const auto faults = fault_mix(static_cast<unsigned>(seed));
    std::ostringstream listed;
    for (const auto& spec : faults)
    {
        listed << "\n  " << spec;
    }
    INFO("seed " << seed << ", faults:" << listed.str());
    fleet.set_faults(faults);

    // Faulty run under a watchdog: the daemon pings every half interval from its event loop.
    notify_listener listener(fleet.root() / "notify.sock");
    const auto started = std::chrono::steady_clock::now();
    const auto faulty = fleet.run(
        {"run", "--once"},
        {"NOTIFY_SOCKET=" + listener.path().string(),
         "WATCHDOG_USEC=" + std::to_string(std::chrono::microseconds(watchdog_interval).count())},
        std::chrono::seconds(600)
    );
    const auto finished = std::chrono::steady_clock::now();
    INFO("faulty run standard error: " << faulty.stderr_path);
    CHECK((faulty.exit_code == 0 || faulty.exit_code == 1));

    // The first ping follows process start-up and opening the database; after that the
    // event loop must never go a whole watchdog interval without one.
    const auto pings = listener.watchdog_pings();
    REQUIRE_FALSE(pings.empty());
    const auto first_ping_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(pings.front() - started).count();
    auto longest_gap = finished - pings.back();
    for (std::size_t i = 1; i < pings.size(); ++i)
    {
        longest_gap = std::max(longest_gap, pings[i] - pings[i - 1]);
    }
    const auto gap_ms = std::chrono::duration_cast<std::chrono::milliseconds>(longest_gap).count();
    INFO(
        pings.size() << " watchdog pings, first after " << first_ping_ms << " ms, longest gap " << gap_ms
                     << " ms"
    );
    CHECK(first_ping_ms < 10'000);
    CHECK(longest_gap < watchdog_interval);

    // Statuses of the faulty run: finished one way or another, and Completed only when every
    // EOB was fetched.
    const auto faulty_jobs = fleet.jobs();
    CHECK(faulty_jobs.size() == static_cast<std::size_t>(patients));
    const auto statuses = count_by(faulty_jobs, "status");
    for (const auto& [status, count] : statuses)
    {
        INFO(count << " job(s) " << status);
        CHECK((status == "Completed" || status == "Failed" || status == "PartiallyCompleted"));
    }
    for (const auto& job : faulty_jobs)
    {
        if (text_at(job, "status") == "Completed")
        {
            INFO("Completed job " << text_at(job, "job_id"));
            CHECK(job.at("eobs_fetched").to_number<std::int64_t>() == eobs_per_patient);
        }
    }
    const auto faulty_state = fleet.sandbox.state();
    std::int64_t applied = 0;
    for (const auto& fault : faulty_state.at("faults").as_array())
    {
        applied += fault.at("applied").to_number<std::int64_t>();
    }
    CHECK(applied > 0);

    // Clean rerun: the watermark of an unfinished job never passed data Health Cloud did not
    // confirm, so this run delivers every EOB that is still missing.
    fleet.set_faults({});
    fleet.workspace.make_all_patients_due();
    const auto clean = fleet.run({"run", "--once"}, {}, std::chrono::seconds(600));
    INFO("clean run standard error: " << clean.stderr_path);
    CHECK(clean.exit_code == 0);

    const auto jobs = fleet.jobs();
    CHECK(count_by(jobs, "status").count("InProgress") == 0);
    std::set<std::string> seen;
    for (const auto& job : jobs)
    {
        if (seen.insert(text_at(job, "sf_patient_id")).second)
        {
            INFO("newest job " << text_at(job, "job_id") << " of " << text_at(job, "sf_patient_id"));
            CHECK(text_at(job, "status") == "Completed");
        }
    }
    CHECK(seen.size() == static_cast<std::size_t>(patients));
    for (const auto& [patient, state] : fleet.consent_states())
    {
        INFO("patient " << patient);
        CHECK(state == "active");
    }

    const auto state = fleet.sandbox.state();
    CHECK(number_at(state, "duplicates_total") == 0);
    CHECK(number_at(state, "records", "Encounter") == number_at(state, "eobs_total"));
    CHECK(fleet.sql("PRAGMA integrity_check") == "ok\n");

    const auto count_of = [&statuses](const char* status) {
        const auto found = statuses.find(status);
        return found != statuses.end() ? found->second : 0;
    };
    std::cout << "fault mix: seed " << seed << ", " << patients << " patients, " << applied
              << " faults applied; faulty run " << count_of("Completed") << " Completed, "
              << count_of("PartiallyCompleted") << " PartiallyCompleted, " << count_of("Failed")
              << " Failed; " << pings.size() << " watchdog pings, longest gap " << gap_ms << " ms\n";
}

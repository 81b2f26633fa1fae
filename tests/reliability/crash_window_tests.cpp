#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "reliability_fleet.hpp"

namespace {

using namespace bbsync::reliability_tests;

constexpr int eobs_per_patient = 12;
constexpr int killed_exit_code = 128 + 9;

// Where the process dies, and whether the payer has then rotated a refresh token that was
// never stored: a rotation is lost when the kill lands after the payer processed the
// request and before the new token was committed.
struct crash_window
{
    std::string failpoint;
    bool token_lost = false;
};

// Patient reads that the payer returned with status 200.
std::int64_t patient_reads(const boost::json::object& state)
{
    std::int64_t reads = 0;
    for (const auto& request : state.at("requests").as_array())
    {
        const bool patient_read = text_at(request, "host") == "payer" &&
                                  text_at(request, "route") == "/v2/fhir/Patient/{id}" &&
                                  request.at("status").to_number<int>() == 200;
        reads += patient_read ? request.at("count").to_number<std::int64_t>() : 0;
    }
    return reads;
}

void check_crash_window(const crash_window& window)
{
    reliability_fleet fleet("crash-window", 1, eobs_per_patient);
    std::vector<std::string> environment;
    if (!window.failpoint.empty())
    {
        environment.push_back("BBSYNC_FAILPOINT=" + window.failpoint);
    }
    if (window.failpoint == "refresh.after_send")
    {
        // The payer responds to the refresh after 3 s, so a kill 300 ms after sending lands while
        // the response is outstanding. The sandbox rotates the token after the delay whether
        // or not the client is still there.
        fleet.set_faults({"payer:/v2/o/token/:first=1:delay=3000"});
        environment.push_back("BBSYNC_FAILPOINT_DELAY_MS=300");
    }

    // First run: killed at the failpoint.
    const auto first = fleet.run({"run", "--once"}, environment);
    INFO("first run standard error: " << first.stderr_path);
    if (window.failpoint.empty())
    {
        REQUIRE(first.exit_code == 0);
    }
    else
    {
        REQUIRE(first.exit_code == killed_exit_code);
        CHECK(
            read_file(first.stderr_path).find("failpoint " + window.failpoint + " reached") !=
            std::string::npos
        );
    }
    if (window.failpoint == "refresh.after_send")
    {
        // Wait for the delayed refresh to be handled, then check that it rotated the token.
        for (int i = 0; i < 50 && number_at(fleet.sandbox.state(), "tokens", "payer_refreshes") == 0; ++i)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    const auto at_crash = fleet.sandbox.state();
    const auto refreshes_at_crash = number_at(at_crash, "tokens", "payer_refreshes");
    if (window.failpoint == "refresh.before_send")
    {
        CHECK(refreshes_at_crash == 0);
    }
    else
    {
        CHECK(refreshes_at_crash == 1);
    }
    if (window.failpoint == "refresh.after_first_call")
    {
        CHECK(patient_reads(at_crash) >= 1);
    }
    fleet.set_faults({});

    // Second run without the failpoint. A killed job made its patient due again. After a clean
    // first run the test makes the patient due as if the sync interval had passed.
    if (window.failpoint.empty())
    {
        fleet.workspace.make_all_patients_due();
    }
    const auto second = fleet.run({"run", "--once"});
    INFO("second run standard error: " << second.stderr_path);
    CHECK(second.exit_code == (window.token_lost ? 1 : 0));

    const auto jobs = fleet.jobs();
    const auto statuses = count_by(jobs, "status");
    CHECK(statuses.count("InProgress") == 0);
    CHECK(statuses.count("New") == 0);
    REQUIRE(jobs.size() == 2);
    const auto& newest = jobs.at(0);
    const auto& oldest = jobs.at(jobs.size() - 1);
    if (window.failpoint.empty())
    {
        CHECK(text_at(oldest, "status") == "Completed");
    }
    else
    {
        CHECK(text_at(oldest, "status") == "Failed");
        CHECK(text_at(oldest, "last_error_class") == "job.interrupted");
    }

    const auto state = fleet.sandbox.state();
    const auto& tokens = state.at("tokens").as_object();
    CHECK(number_at(state, "duplicates_total") == 0);
    if (window.token_lost)
    {
        CHECK(text_at(newest, "status") == "Failed");
        CHECK(text_at(newest, "last_error_class") == "consent.rotation_lost");
        CHECK(fleet.consent_states()[fleet.sf_id(0)] == "renewal_required");
        // The one refresh after the restart was rejected as a reuse of the rotated token.
        CHECK(number_at(tokens, "payer_refresh_rejections", "invalid_grant") == 1);
    }
    else
    {
        CHECK(text_at(newest, "status") == "Completed");
        // The watermark moves only when a job finishes, so after a kill every EOB is fetched again.
        const std::int64_t expected_fetched = window.failpoint.empty() ? 0 : eobs_per_patient;
        CHECK(newest.at("eobs_fetched").to_number<std::int64_t>() == expected_fetched);
        CHECK(fleet.consent_states()[fleet.sf_id(0)] == "active");
        CHECK(number_at(state, "records", "Encounter") == eobs_per_patient);
        for (const auto& [error, count] : tokens.at("payer_refresh_rejections").as_object())
        {
            INFO("payer refresh rejection " << std::string(error));
            CHECK(count.to_number<std::int64_t>() == 0);
        }
    }
}

}  // namespace

TEST_CASE("run without a crash completes twice", "[reliability][crash]") { check_crash_window({"", false}); }

TEST_CASE("kill before the token request keeps the token", "[reliability][crash]")
{
    check_crash_window({"refresh.before_send", false});
}

TEST_CASE("kill while the token response is pending loses the token", "[reliability][crash]")
{
    check_crash_window({"refresh.after_send", true});
}

TEST_CASE("kill after the token response is read loses the token", "[reliability][crash]")
{
    // The payer has rotated the token and the process dies before storing the new one, so
    // this window loses the token just like a kill before the response is read.
    check_crash_window({"refresh.after_response", true});
}

TEST_CASE("kill after the rotated token is committed keeps the token", "[reliability][crash]")
{
    check_crash_window({"refresh.after_commit", false});
}

TEST_CASE("kill after the first payer call keeps the token", "[reliability][crash]")
{
    check_crash_window({"refresh.after_first_call", false});
}

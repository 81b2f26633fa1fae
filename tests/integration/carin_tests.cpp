#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "bbsync_workspace.hpp"
#include "sandbox_server.hpp"
#include "temporary_directory.hpp"

namespace {

namespace json = boost::json;
using bbsync::integration_tests::bbsync_workspace;
using bbsync::integration_tests::sandbox_server;
using bbsync::integration_tests::temporary_directory;

std::int64_t count_at(const json::object& state, const char* section, const char* key)
{
    const auto* inner = state.at(section).if_object();
    const auto* value = inner != nullptr ? inner->if_contains(key) : nullptr;
    return value != nullptr && value->is_number() ? value->to_number<std::int64_t>() : 0;
}

}  // namespace

TEST_CASE("a CARIN payer's patient syncs end to end by next links", "[integration][carin]")
{
    temporary_directory directory{"bbsync-carin"};
    sandbox_server sandbox(directory.path(), 2, 23, 1, {"--mode", "carin"});
    REQUIRE(std::string(sandbox.state().at("mode").as_string()) == "carin");

    bbsync_workspace workspace(directory.path() / "bbsync", sandbox, "info");
    workspace.append_config("bluebuttonapi.enablePagination = false\n"
                            "bluebuttonapi.coverageEndpoint.queryParam = patient\n"
                            "bluebuttonapi.eobEndpoint.count = 7\n");
    for (std::size_t i = 0; i < sandbox.patients().size(); ++i)
    {
        const auto& patient = sandbox.patients().at(i);
        const auto added = workspace.add_patient(
            std::string(patient.at("sf_patient_id").as_string()),
            std::string(patient.at("payer_patient_id").as_string()),
            sandbox.original_refresh_token(i)
        );
        REQUIRE(added.exit_code == 0);
    }

    const auto result = workspace.run({"run", "--once"}, {}, std::chrono::seconds(120));
    INFO("bbsync standard error: " << result.stderr_path);
    REQUIRE(result.exit_code == 0);

    const auto jobs = workspace.jobs();
    REQUIRE(jobs.size() == 2);
    for (const auto& job : jobs)
    {
        INFO("summary: " << job.at("summary"));
        CHECK(job.at("status").as_string() == "Completed");
    }

    const auto state = sandbox.state();
    const auto eobs = state.at("eobs_total").to_number<std::int64_t>();
    CHECK(eobs == 46);
    CHECK(count_at(state, "records", "Encounter") == eobs);
    // Care-team members are separate Practitioner resources in CARIN: the job must have read
    // and written them rather than skipping them.
    INFO("first job summary: " << jobs[0].at("summary"));
    CHECK(count_at(state, "records", "Practitioner") > 0);
    CHECK(state.at("duplicates_total").to_number<std::int64_t>() == 0);

    // A second run pages by next links again and writes nothing new.
    workspace.make_all_patients_due();
    REQUIRE(workspace.run({"run", "--once"}, {}, std::chrono::seconds(120)).exit_code == 0);
    const auto after = sandbox.state();
    CHECK(count_at(after, "records", "Encounter") == eobs);
    CHECK(after.at("duplicates_total").to_number<std::int64_t>() == 0);
}

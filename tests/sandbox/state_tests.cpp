#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "sandbox_process.hpp"

namespace {

namespace json = boost::json;
using bbsync::tests::sandbox_process;

std::int64_t request_count(
    const json::object& state, const std::string& host, const std::string& route, int status
)
{
    for (const auto& item : state.at("requests").as_array())
    {
        if (item.at("host").as_string() == host && item.at("route").as_string() == route &&
            item.at("status").as_int64() == status)
            return item.at("count").as_int64();
    }
    return 0;
}

}  // namespace

TEST_CASE("state counts requests, tokens, EOBs and jobs", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "3", "--eobs-per-patient", "16", "--seed", "7"});
    const auto token = sandbox.payer_access_token(0);
    sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000001", token);
    sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000002", token);
    sandbox.get_with_token(
        "payer",
        "/v2/fhir/ExplanationOfBenefit?patient=-19990000000001&_count=5&_lastUpdated=gt2024-06-01",
        token
    );
    sandbox.payer_token("unknown-token-value-unknown-token");
    const auto sf_token = sandbox.salesforce_token();
    sandbox.request(
        "salesforce",
        "PATCH",
        "/services/data/v60.0/sobjects/PatientSyncJob__c/JobId__c/j1",
        R"({"Status__c":"Completed"})",
        {{"Authorization", "Bearer " + sf_token}, {"Content-Type", "application/json"}}
    );
    // A Salesforce token sent to the payer is foreign.
    sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000001", sf_token);

    // Every port serves the same document.
    const auto state = sandbox.request("healthcloud", "GET", "/_sandbox/state").json().as_object();
    CHECK(request_count(state, "payer", "/v2/fhir/Patient/{id}", 200) == 1);
    CHECK(request_count(state, "payer", "/v2/fhir/Patient/{id}", 404) == 1);
    CHECK(request_count(state, "payer", "/v2/fhir/Patient/{id}", 401) == 1);
    CHECK(request_count(state, "payer", "/v2/fhir/ExplanationOfBenefit", 200) == 1);
    CHECK(
        request_count(
            state, "salesforce", "/services/data/{v}/sobjects/PatientSyncJob__c/JobId__c/{id}", 201
        ) == 1
    );
    CHECK(state.at("eobs_total").as_int64() == 48);
    CHECK(state.at("eobs_by_type").at("carrier").as_int64() == 6);
    CHECK(state.at("tokens").at("payer_refreshes").as_int64() == 1);
    CHECK(state.at("tokens").at("payer_refresh_rejections").at("invalid_request").as_int64() == 1);
    CHECK(state.at("tokens").at("payer_live_refresh_tokens").as_int64() == 3);
    CHECK(state.at("tokens").at("sf_tokens_issued").as_int64() == 1);
    CHECK(state.at("sync_jobs").at("count").as_int64() == 1);
    CHECK(state.at("sync_jobs").at("by_status").at("Completed").as_int64() == 1);
    CHECK(state.at("rejected_total").as_int64() == 3);
    CHECK(state.at("max_concurrency").at("payer").as_int64() >= 1);

    const auto& searches = state.at("eob_searches").as_array();
    REQUIRE(searches.size() == 1);
    CHECK(searches.at(0).at("patient").as_string() == "-19990000000001");
    CHECK(searches.at(0).at("last_updated").at(0).as_string() == "gt2024-06-01");
    CHECK(searches.at(0).at("count").as_int64() == 5);
    CHECK(searches.at(0).at("returned").as_int64() == 5);

    for (const auto& item : state.at("foreign_authorization").as_array())
    {
        if (item.at("host").as_string() == "payer")
            CHECK(item.at("count").as_int64() == 1);
    }
}

TEST_CASE("sandbox writes its files and exits 0 on SIGTERM", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "2", "--eobs-per-patient", "0"});
    const auto& ready = sandbox.ready();
    CHECK(ready.at("payer_client_id").as_string() == "bbsync-sandbox-app");
    CHECK(ready.at("sf_client_secret").as_string() == "sandbox-sf-secret");
    CHECK(std::filesystem::path(std::string(ready.at("ca_file").as_string())).is_absolute());
    CHECK(std::filesystem::exists(sandbox.state_dir() / "ca.pem"));
    REQUIRE(sandbox.patients().size() == 2);
    CHECK(sandbox.patients().at(1).at("payer_patient_id").as_string() == "-19990000000002");
    CHECK(sandbox.patients().at(1).at("sf_patient_id").as_string() == "001SB0000000000002");
    CHECK(sandbox.stop() == 0);
}

TEST_CASE("same seed gives the same refresh tokens", "[sandbox]")
{
    std::string first;
    {
        sandbox_process sandbox({"--patients", "1", "--seed", "42"});
        first = std::string(sandbox.patients().at(0).at("refresh_token").as_string());
    }
    sandbox_process again({"--patients", "1", "--seed", "42"});
    CHECK(again.patients().at(0).at("refresh_token").as_string() == first);
    sandbox_process other({"--patients", "1", "--seed", "43"});
    CHECK(other.patients().at(0).at("refresh_token").as_string() != first);
}

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "sandbox_process.hpp"

namespace {

namespace json = boost::json;
using bbsync::tests::http_result;
using bbsync::tests::sandbox_process;

const std::string collection_path = "/services/data/v60.0/composite/sobjects/PatientSyncJob__c/JobId__c";
const std::string job_path = "/services/data/v60.0/sobjects/PatientSyncJob__c/JobId__c/";

json::object job_record(const std::string& job_id, const std::string& status)
{
    return json::object{
        {"attributes", json::object{{"type", "PatientSyncJob__c"}}},
        {"JobId__c", job_id},
        {"PatientId__c", "001SB0000000000001"},
        {"Status__c", status},
    };
}

http_result patch(
    const sandbox_process& sandbox, const std::string& token, const std::string& path, const json::value& body
)
{
    return sandbox.request(
        "salesforce",
        "PATCH",
        path,
        json::serialize(body),
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}
    );
}

http_result upsert_collection(
    const sandbox_process& sandbox, const std::string& token, json::array records, bool all_or_none = false
)
{
    return patch(
        sandbox,
        token,
        collection_path,
        json::object{{"allOrNone", all_or_none}, {"records", std::move(records)}}
    );
}

std::string first_error_code(const json::value& item)
{
    return std::string(item.at("errors").at(0).at("statusCode").as_string());
}

}  // namespace

TEST_CASE("Salesforce session expires after its lifetime", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1", "--sf-session-lifetime", "1"});
    const auto token = sandbox.salesforce_token();
    const json::object fields{{"Status__c", "New"}};
    CHECK(patch(sandbox, token, job_path + "j1", fields).status == 201);

    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const auto expired = patch(sandbox, token, job_path + "j1", fields);
    CHECK(expired.status == 401);
    CHECK(expired.json().at(0).at("errorCode").as_string() == "INVALID_SESSION_ID");

    const auto fresh = sandbox.salesforce_token();
    CHECK(patch(sandbox, fresh, job_path + "j1", fields).status == 200);
}

TEST_CASE("Collections upsert answers each record in order", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    const auto created =
        upsert_collection(sandbox, token, {job_record("a", "New"), job_record("b", "InProgress")});
    REQUIRE(created.status == 200);
    CHECK(created.header("Sforce-Limit-Info").starts_with("api-usage="));
    const auto first = created.json().as_array();
    REQUIRE(first.size() == 2);
    CHECK(first.at(0).at("success").as_bool());
    CHECK(first.at(0).at("created").as_bool());
    CHECK(first.at(0).at("errors").as_array().empty());
    CHECK(first.at(0).at("id").as_string().size() == 18);

    auto bad_picklist = job_record("c", "Done");
    auto missing_id = job_record("d", "New");
    missing_id.erase("JobId__c");
    const auto mixed = upsert_collection(
        sandbox, token, {job_record("b", "Completed"), bad_picklist, missing_id, job_record("e", "Failed")}
    );
    REQUIRE(mixed.status == 200);
    const auto second = mixed.json().as_array();
    REQUIRE(second.size() == 4);
    CHECK(second.at(0).at("success").as_bool());
    CHECK_FALSE(second.at(0).at("created").as_bool());
    CHECK(second.at(0).at("id") == first.at(1).at("id"));
    CHECK_FALSE(second.at(1).at("success").as_bool());
    CHECK(first_error_code(second.at(1)) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    CHECK(first_error_code(second.at(2)) == "MISSING_ARGUMENT");
    CHECK(second.at(3).at("created").as_bool());

    const auto jobs = sandbox.request("salesforce", "GET", "/_sandbox/jobs").json().at("jobs").as_array();
    CHECK(jobs.size() == 3);
}

TEST_CASE("Collections allOrNone rolls back every record", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    const auto result =
        upsert_collection(sandbox, token, {job_record("a", "New"), job_record("b", "Nope")}, true);
    REQUIRE(result.status == 200);
    const auto items = result.json().as_array();
    CHECK(first_error_code(items.at(0)) == "ALL_OR_NONE_OPERATION_ROLLED_BACK");
    CHECK(first_error_code(items.at(1)) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    CHECK(sandbox.state().at("sync_jobs").at("count").as_int64() == 0);
}

TEST_CASE("Collections upsert rejects over 200 records", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    json::array records;
    for (int i = 0; i < 201; ++i)
        records.push_back(job_record("job-" + std::to_string(i), "New"));
    const auto result = upsert_collection(sandbox, token, records);
    CHECK(result.status == 400);
    CHECK(result.json().at(0).at("errorCode").as_string() == "EXCEEDED_ID_LIMIT");

    records.pop_back();
    CHECK(upsert_collection(sandbox, token, records).status == 200);
    CHECK(sandbox.state().at("sync_jobs").at("count").as_int64() == 200);
}

TEST_CASE("daily API limit gives REQUEST_LIMIT_EXCEEDED", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1", "--sf-daily-api-limit", "3"});
    const auto token = sandbox.salesforce_token();
    const json::object fields{{"Status__c", "New"}};
    for (int i = 0; i < 3; ++i)
        CHECK(patch(sandbox, token, job_path + "j1", fields).status / 100 == 2);
    const auto over = patch(sandbox, token, job_path + "j1", fields);
    CHECK(over.status == 403);
    CHECK(over.json().at(0).at("errorCode").as_string() == "REQUEST_LIMIT_EXCEEDED");
    CHECK(over.header("Sforce-Limit-Info") == "api-usage=3/3");
    CHECK(upsert_collection(sandbox, token, {job_record("a", "New")}).status == 403);
    const auto state = sandbox.state();
    CHECK(state.at("sf_api_usage").as_int64() == 3);
    CHECK(state.at("sf_api_calls_over_limit").as_int64() == 2);
}

TEST_CASE("Healthcare API throttles a sixth concurrent call", "[sandbox]")
{
    sandbox_process sandbox(
        {"--patients", "1", "--eobs-per-patient", "1", "--fault", "healthcloud:/bundle:all:delay=1000"}
    );
    const auto token = sandbox.salesforce_token();
    const std::string bundle = R"({"resourceType":"Bundle","type":"batch","entry":[]})";
    std::vector<unsigned> statuses(7);
    std::vector<std::thread> clients;
    for (std::size_t i = 0; i < statuses.size(); ++i)
    {
        clients.emplace_back([&, i] {
            statuses[i] =
                sandbox
                    .request(
                        "healthcloud",
                        "POST",
                        "/bundle/fhir-r4/v1/Bundle",
                        bundle,
                        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/fhir+json"}}
                    )
                    .status;
        });
    }
    for (auto& client : clients)
        client.join();
    CHECK(std::count(statuses.begin(), statuses.end(), 200u) == 5);
    CHECK(std::count(statuses.begin(), statuses.end(), 429u) == 2);
    CHECK(sandbox.state().at("healthcloud_throttled").as_int64() == 2);
}

TEST_CASE("Practitioner search finds stored NPI", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    const json::object practitioner{
        {"resourceType", "Practitioner"},
        {"identifier",
         json::array{
             json::object{{"system", "urn:bbsync:test"}, {"value", "p1"}},
             json::object{{"system", "http://hl7.org/fhir/sid/us-npi"}, {"value", "1234567893"}},
         }},
        {"name", json::array{json::object{{"family", "Example"}}}},
    };
    const json::object bundle{
        {"resourceType", "Bundle"},
        {"type", "batch"},
        {"entry",
         json::array{json::object{
             {"resource", practitioner},
             {"request", json::object{{"method", "POST"}, {"url", "Practitioner"}}}}}},
    };
    const auto stored = sandbox.request(
        "healthcloud",
        "POST",
        "/bundle/fhir-r4/v1/Bundle",
        json::serialize(bundle),
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/fhir+json"}}
    );
    REQUIRE(stored.status == 200);
    const std::string location(stored.json().at("entry").at(0).at("response").at("location").as_string());

    const auto found = sandbox.get_with_token(
        "healthcloud",
        "/bundle/fhir-r4/v1/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi%7C1234567893",
        token
    );
    REQUIRE(found.status == 200);
    const auto searchset = found.json();
    CHECK(searchset.at("type").as_string() == "searchset");
    CHECK(searchset.at("total").as_int64() == 1);
    CHECK(
        "Practitioner/" + std::string(searchset.at("entry").at(0).at("resource").at("id").as_string()) ==
        location
    );

    const auto none = sandbox.get_with_token(
        "healthcloud",
        "/bundle/fhir-r4/v1/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi%7C999",
        token
    );
    CHECK(none.json().at("total").as_int64() == 0);
    const auto bad =
        sandbox.get_with_token("healthcloud", "/bundle/fhir-r4/v1/Practitioner?identifier=x", token);
    CHECK(bad.status == 400);
    CHECK(
        sandbox.get_with_token("healthcloud", "/bundle/fhir-r4/v1/Practitioner?identifier=a%7Cb", "nope")
            .status == 401
    );
}

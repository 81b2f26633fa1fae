#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <string>

#include "sandbox_process.hpp"

namespace {

namespace json = boost::json;
using bbsync::tests::sandbox_process;

const std::string job_path = "/services/data/v60.0/sobjects/PatientSyncJob__c/JobId__c/";

bbsync::tests::http_result patch_job(
    sandbox_process& sandbox, const std::string& token, const std::string& job_id, const json::object& body
)
{
    return sandbox.request(
        "salesforce",
        "PATCH",
        job_path + job_id,
        json::serialize(body),
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}
    );
}

std::string error_code_of(const bbsync::tests::http_result& result)
{
    return std::string(result.json().at(0).at("errorCode").as_string());
}

}  // namespace

TEST_CASE("Salesforce token needs the connected app credentials", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto bad = sandbox.request(
        "salesforce",
        "POST",
        "/services/oauth2/token",
        "grant_type=client_credentials&client_id=bbsync-sandbox-connected-app&client_secret=nope",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    CHECK(bad.status == 400);
    CHECK(bad.body == R"({"error":"invalid_client","error_description":"invalid client credentials"})");

    const auto good = sandbox.request(
        "salesforce",
        "POST",
        "/services/oauth2/token",
        "grant_type=client_credentials&client_id=bbsync-sandbox-connected-app&client_secret=sandbox-sf-"
        "secret",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    REQUIRE(good.status == 200);
    const auto body = good.json().as_object();
    CHECK(
        body.at("instance_url").as_string() ==
        "https://127.0.0.1:" + std::to_string(sandbox.port("salesforce"))
    );
    CHECK(body.at("token_type").as_string() == "Bearer");
    CHECK(body.at("issued_at").is_string());
    CHECK(body.at("scope").as_string() == "api");
    CHECK_FALSE(body.contains("expires_in"));
}

TEST_CASE("job upsert creates with 201 then updates with 200", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    const std::string job_id = "6f1c2a52-4d1b-4c0e-9a43-0d2f7f3b8e11";
    json::object fields{
        {"PatientId__c", "001SB0000000000001"},
        {"StartTime__c", "2026-01-02T03:04:05.000Z"},
        {"Status__c", "InProgress"},
        {"ClaimDataStatus__c", "New"},
        {"Summary__c", "started"},
    };
    const auto created = patch_job(sandbox, token, job_id, fields);
    CHECK(created.status == 201);
    CHECK(created.header("Sforce-Limit-Info").starts_with("api-usage="));
    const auto first = created.json().as_object();
    CHECK(first.at("created").as_bool());
    CHECK(first.at("success").as_bool());
    CHECK(first.at("id").as_string().size() == 18);

    fields["Status__c"] = "Completed";
    const auto updated = patch_job(sandbox, token, job_id, fields);
    CHECK(updated.status == 200);
    CHECK_FALSE(updated.json().at("created").as_bool());
    CHECK(updated.json().at("id") == first.at("id"));

    const auto jobs = sandbox.request("salesforce", "GET", "/_sandbox/jobs").json();
    REQUIRE(jobs.at("jobs").as_array().size() == 1);
    CHECK(jobs.at("jobs").at(0).at("JobId__c").as_string() == job_id);
    CHECK(jobs.at("jobs").at(0).at("Status__c").as_string() == "Completed");
}

TEST_CASE("job upsert rejects bad fields, values and sessions", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    const std::string job_id = "job-1";

    const auto picklist = patch_job(sandbox, token, job_id, {{"Status__c", "completed"}});
    CHECK(picklist.status == 400);
    CHECK(error_code_of(picklist) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    CHECK(
        picklist.json().at(0).at("message").as_string() ==
        "bad value for restricted picklist field: completed"
    );
    CHECK(picklist.json().at(0).at("fields").at(0).as_string() == "Status__c");
    CHECK(patch_job(sandbox, token, job_id, {{"ClaimDataStatus__c", "In Progress"}}).status == 400);

    const std::string long_text(32769, 'x');
    const auto too_long = patch_job(sandbox, token, job_id, {{"ClaimDataSummary__c", long_text}});
    CHECK(too_long.status == 400);
    CHECK(error_code_of(too_long) == "STRING_TOO_LONG");
    CHECK(too_long.body.find("xxxx") == std::string::npos);
    CHECK(patch_job(sandbox, token, job_id, {{"Summary__c", std::string(32768, 'y')}}).status == 201);
    CHECK(patch_job(sandbox, token, job_id, {{"PatientId__c", std::string(21, '1')}}).status == 400);

    CHECK(error_code_of(patch_job(sandbox, token, job_id, {{"Colour__c", "red"}})) == "INVALID_FIELD");
    CHECK(patch_job(sandbox, token, job_id, {{"JobId__c", job_id}}).status == 400);
    CHECK(patch_job(sandbox, token, job_id, {{"Id", "a0BSB0000000000001"}}).status == 400);
    CHECK(patch_job(sandbox, token, job_id, {{"StartTime__c", "yesterday"}}).status == 400);
    CHECK(patch_job(sandbox, token, std::string(51, 'j'), {{"Status__c", "New"}}).status == 400);

    const auto no_session = patch_job(sandbox, "stale", job_id, {{"Status__c", "New"}});
    CHECK(no_session.status == 401);
    CHECK(
        no_session.body == R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])"
    );
    CHECK_FALSE(no_session.header("Sforce-Limit-Info").empty());
}

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "daemon/salesforce/salesforce_client.hpp"

using bbsync::job_record;
using bbsync::max_long_text_chars;
using bbsync::parse_batch_response;
using bbsync::patient_sync_job_fields;

namespace json = boost::json;

namespace {

std::size_t code_points(std::string_view text)
{
    std::size_t count = 0;
    for (unsigned char c : text)
    {
        if ((c & 0xC0) != 0x80)
        {
            ++count;
        }
    }
    return count;
}

job_record sample_job()
{
    job_record job;
    job.job_id = "0b7e6f0e-3f0a-4c1e-9a51-1d2b3c4d5e6f";
    job.patient_key = 7;
    job.sf_patient_id = "001A000001abcDEF";
    job.trigger = "manual";
    job.status = "PartiallyCompleted";
    job.summary = "ExplanationOfBenefit: 3 written, 1 failed";
    job.claim_data_status = "New";
    job.claim_data_summary = "Claim data ingestion is off for this job.";
    job.start_time = "2024-05-01T10:00:00.000Z";
    job.end_time = "2024-05-01T10:01:00.000Z";
    job.watermark_before = "2024-04-01T00:00:00Z";
    job.watermark_after = "2024-04-30T00:00:00Z";
    job.last_error_class = "healthcloud.http_400";
    job.mirror_state = "pending";
    return job;
}

}  // namespace

TEST_CASE("batch response statuses are parsed in order", "[daemon]")
{
    const auto body = json::parse(R"({
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [
            {"response": {"status": "201 Created"}},
            {"response": {"status": "200 OK"}},
            {"response": {"status": "400 Bad Request"}},
            {"response": {"status": "424 Failed Dependency"}},
            {"response": {"status": "201"}}
        ]
    })");
    const auto statuses = parse_batch_response(body, 5);
    REQUIRE(statuses);
    CHECK(*statuses == bbsync::batch_outcome{201, 200, 400, 424, 201});
}

TEST_CASE("batch response with wrong entry count is rejected", "[daemon]")
{
    const auto body =
        json::parse(R"({"type": "batch-response", "entry": [{"response": {"status": "200 OK"}}]})");
    CHECK_FALSE(parse_batch_response(body, 2));
    CHECK_FALSE(parse_batch_response(body, 0));
    CHECK(parse_batch_response(body, 1));
}

TEST_CASE("batch response of wrong type is rejected", "[daemon]")
{
    CHECK_FALSE(parse_batch_response(
        json::parse(R"({"type": "transaction-response", "entry": [{"response": {"status": "200 OK"}}]})"), 1
    ));
    CHECK_FALSE(parse_batch_response(json::parse(R"({"entry": [{"response": {"status": "200 OK"}}]})"), 1));
    CHECK_FALSE(parse_batch_response(json::parse(R"({"type": "batch-response"})"), 0));
    CHECK_FALSE(parse_batch_response(json::parse(R"({"type": "batch-response", "entry": {}})"), 0));
    CHECK_FALSE(parse_batch_response(json::parse(R"([{"response": {"status": "200 OK"}}])"), 1));
}

TEST_CASE("batch response entry without status is rejected", "[daemon]")
{
    const char* bodies[] = {
        R"({"type": "batch-response", "entry": [{"response": {}}]})",
        R"({"type": "batch-response", "entry": [{}]})",
        R"({"type": "batch-response", "entry": [null]})",
        R"({"type": "batch-response", "entry": [{"response": {"status": 200}}]})",
        R"({"type": "batch-response", "entry": [{"response": {"status": "OK"}}]})",
        R"({"type": "batch-response", "entry": [{"response": {"status": "20"}}]})",
    };
    for (const char* body : bodies)
    {
        INFO(body);
        CHECK_FALSE(parse_batch_response(json::parse(body), 1));
    }
}

TEST_CASE("PatientSyncJob fields are exactly the six", "[daemon]")
{
    const auto fields = patient_sync_job_fields(sample_job());
    std::set<std::string> names;
    for (const auto& field : fields)
    {
        names.insert(std::string(field.key()));
    }
    CHECK(
        names ==
        std::set<std::string>{
            "PatientId__c",
            "StartTime__c",
            "Status__c",
            "Summary__c",
            "ClaimDataStatus__c",
            "ClaimDataSummary__c",
        }
    );
    CHECK(fields.at("PatientId__c") == "001A000001abcDEF");
    CHECK(fields.at("StartTime__c") == "2024-05-01T10:00:00.000Z");
    CHECK(fields.at("Status__c") == "PartiallyCompleted");
    CHECK(fields.at("Summary__c") == "ExplanationOfBenefit: 3 written, 1 failed");
    CHECK(fields.at("ClaimDataStatus__c") == "New");
    CHECK(fields.at("ClaimDataSummary__c") == "Claim data ingestion is off for this job.");
}

TEST_CASE("PatientSyncJob summaries fit the field", "[daemon]")
{
    auto job = sample_job();
    job.summary.clear();
    for (int i = 0; i < 40000; ++i)
    {
        job.summary += "\xC3\xA9";
    }
    job.claim_data_summary = std::string(max_long_text_chars, 'x');
    const auto fields = patient_sync_job_fields(job);

    const auto summary = fields.at("Summary__c").as_string();
    CHECK(code_points(summary) == max_long_text_chars);
    CHECK(summary.ends_with(" [truncated]"));
    CHECK(fields.at("ClaimDataSummary__c").as_string() == job.claim_data_summary);
}

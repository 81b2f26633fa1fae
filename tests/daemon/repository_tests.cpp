#include <catch2/catch.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/sync/repository.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

using bbsync::job_filter;
using bbsync::job_result;
using bbsync::patient_record;
using bbsync::repository;
using bbsync::store::database;

namespace {

constexpr const char* far_past = "2000-01-01T00:00:00.000Z";
constexpr const char* far_future = "2999-01-01T00:00:00.000Z";

database migrated_database()
{
    auto db = database::open(":memory:");
    bbsync::store::migrate(db, bbsync::store::load_migrations(bbsync::store::project_migrations()));
    return db;
}

std::int64_t count_rows(database& db, const std::string& sql)
{
    auto query = db.prepare(sql);
    REQUIRE(query.step());
    return query.column_int64(0);
}

std::vector<std::string> sf_ids(const std::vector<patient_record>& patients)
{
    std::vector<std::string> ids;
    for (const auto& patient : patients)
    {
        ids.push_back(patient.sf_patient_id);
    }
    return ids;
}

job_result completed_job(const std::string& job_id, std::int64_t patient_key)
{
    job_result result;
    result.job_id = job_id;
    result.patient_key = patient_key;
    result.status = "Completed";
    result.summary = "ExplanationOfBenefit: 4 written";
    result.claim_data_status = "New";
    result.claim_data_summary = "Claim data ingestion is off for this job.";
    result.pages_fetched = 2;
    result.eobs_fetched = 4;
    result.resources_written = 9;
    result.resources_failed = 0;
    result.new_watermark = "2024-04-30T00:00:00Z";
    result.next_sync_at = "2024-05-02T10:00:00.000Z";
    return result;
}

}  // namespace

TEST_CASE("added patient can be found and listed", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto first = repo.add_patient("001A", "-20140000008325", "refresh-one", 3600);
    const auto second = repo.add_patient("001B", "-20140000008326", "refresh-two", 86400);
    CHECK(first != second);

    const auto found = repo.find_patient(first);
    REQUIRE(found);
    CHECK(found->key == first);
    CHECK(found->sf_patient_id == "001A");
    CHECK(found->payer_patient_id == "-20140000008325");
    CHECK(found->has_refresh_token);
    CHECK_FALSE(found->refresh_in_flight);
    CHECK(found->consent_state == "active");
    CHECK_FALSE(found->watermark);
    CHECK(found->sync_interval_s == 3600);
    CHECK_FALSE(found->next_sync_at.empty());
    CHECK_FALSE(found->claim_data_ingestion);

    const auto by_sf_id = repo.find_patient_by_sf_id("001B");
    REQUIRE(by_sf_id);
    CHECK(by_sf_id->key == second);
    CHECK(repo.refresh_token(second) == "refresh-two");

    CHECK(sf_ids(repo.list_patients()) == std::vector<std::string>{"001A", "001B"});
    CHECK_FALSE(repo.find_patient(second + 100));
    CHECK_FALSE(repo.find_patient_by_sf_id("001Z"));
}

TEST_CASE("duplicate Salesforce id is rejected", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    repo.add_patient("001A", "-20140000008325", "refresh-one", 3600);
    CHECK_THROWS_AS(repo.add_patient("001A", "-20140000009999", "refresh-two", 3600), std::invalid_argument);
    CHECK(repo.list_patients().size() == 1);
}

TEST_CASE("removed patient takes its jobs along", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "refresh-one", 3600);
    repo.start_job("job-1", *repo.find_patient(key), "manual", "2024-05-01T10:00:00.000Z");
    CHECK(repo.remove_patient("001A"));
    CHECK_FALSE(repo.remove_patient("001A"));
    CHECK(repo.list_patients().empty());
    CHECK_FALSE(repo.find_job("job-1"));
}

TEST_CASE("due patients exclude ineligible ones", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto ready = repo.add_patient("001READY", "p1", "t1", 3600);
    const auto renewal = repo.add_patient("001RENEW", "p2", "t2", 3600);
    const auto running = repo.add_patient("001RUN", "p3", "t3", 3600);
    const auto later = repo.add_patient("001LATER", "p4", "t4", 3600);

    repo.mark_renewal_required(renewal);
    repo.start_job("job-running", *repo.find_patient(running), "schedule", "2024-05-01T10:00:00.000Z");
    repo.start_job("job-later", *repo.find_patient(later), "schedule", "2024-05-01T10:00:00.000Z");
    auto finished = completed_job("job-later", later);
    finished.next_sync_at = "2998-01-01T00:00:00.000Z";
    repo.finish_job(finished, "2024-05-01T10:01:00.000Z");

    CHECK(sf_ids(repo.due_patients("2997-01-01T00:00:00.000Z", 10)) == std::vector<std::string>{"001READY"});
    CHECK(sf_ids(repo.due_patients(far_future, 10)) == std::vector<std::string>{"001READY", "001LATER"});
    CHECK(repo.due_patients(far_past, 10).empty());
    CHECK(repo.find_patient(ready)->consent_state == "active");
    CHECK(repo.find_patient(renewal)->consent_state == "renewal_required");
}

TEST_CASE("due patients come oldest first up to the limit", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto a = repo.add_patient("001A", "p1", "t1", 3600);
    const auto b = repo.add_patient("001B", "p2", "t2", 3600);
    for (const auto& [key, due] : {std::pair{a, "2024-05-02T00:00:00.000Z"}, {b, "2024-05-01T00:00:00.000Z"}})
    {
        const auto job_id = "job-" + std::to_string(key);
        repo.start_job(job_id, *repo.find_patient(key), "schedule", "2024-04-30T00:00:00.000Z");
        auto result = completed_job(job_id, key);
        result.next_sync_at = due;
        repo.finish_job(result, "2024-04-30T00:01:00.000Z");
    }
    CHECK(sf_ids(repo.due_patients(far_future, 10)) == std::vector<std::string>{"001B", "001A"});
    CHECK(sf_ids(repo.due_patients(far_future, 1)) == std::vector<std::string>{"001B"});
    CHECK(sf_ids(repo.due_patients("2024-05-01T12:00:00.000Z", 10)) == std::vector<std::string>{"001B"});
}

TEST_CASE("started job is InProgress", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "t1", 3600);
    auto patient = *repo.find_patient(key);
    patient.watermark = "2024-01-01T00:00:00Z";
    repo.start_job("job-1", patient, "manual", "2024-05-01T10:00:00.000Z");

    const auto job = repo.find_job("job-1");
    REQUIRE(job);
    CHECK(job->status == "InProgress");
    CHECK(job->patient_key == key);
    CHECK(job->sf_patient_id == "001A");
    CHECK(job->trigger == "manual");
    CHECK(job->start_time == "2024-05-01T10:00:00.000Z");
    CHECK_FALSE(job->end_time);
    CHECK(job->watermark_before == "2024-01-01T00:00:00Z");
    CHECK_FALSE(job->watermark_after);
    CHECK(count_rows(db, "SELECT count(*) FROM mirror_outbox") == 0);
}

TEST_CASE("finished job records its outcome", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "t1", 3600);
    repo.start_job("job-1", *repo.find_patient(key), "api", "2024-05-01T10:00:00.000Z");
    auto result = completed_job("job-1", key);
    result.status = "PartiallyCompleted";
    result.resources_failed = 2;
    result.last_error_class = "healthcloud.http_400";
    repo.finish_job(result, "2024-05-01T10:01:00.000Z");

    const auto job = repo.find_job("job-1");
    REQUIRE(job);
    CHECK(job->status == "PartiallyCompleted");
    CHECK(job->summary == result.summary);
    CHECK(job->claim_data_status == "New");
    CHECK(job->claim_data_summary == result.claim_data_summary);
    CHECK(job->end_time == "2024-05-01T10:01:00.000Z");
    CHECK(job->pages_fetched == 2);
    CHECK(job->eobs_fetched == 4);
    CHECK(job->resources_written == 9);
    CHECK(job->resources_failed == 2);
    CHECK(job->last_error_class == "healthcloud.http_400");
    CHECK_FALSE(job->watermark_before);
    CHECK(job->watermark_after == "2024-04-30T00:00:00Z");
    CHECK(job->mirror_state == "pending");

    const auto patient = repo.find_patient(key);
    CHECK(patient->watermark == "2024-04-30T00:00:00Z");
    CHECK(patient->next_sync_at == "2024-05-02T10:00:00.000Z");
    CHECK(count_rows(db, "SELECT count(*) FROM mirror_outbox WHERE job_id = 'job-1'") == 1);
}

TEST_CASE("finished job keeps old watermark", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "t1", 3600);
    repo.start_job("job-1", *repo.find_patient(key), "manual", "2024-05-01T10:00:00.000Z");
    repo.finish_job(completed_job("job-1", key), "2024-05-01T10:01:00.000Z");

    repo.start_job("job-2", *repo.find_patient(key), "manual", "2024-05-03T10:00:00.000Z");
    auto failed = completed_job("job-2", key);
    failed.status = "Failed";
    failed.new_watermark = std::nullopt;
    failed.last_error_class = "payer.http_503";
    failed.next_sync_at = "2024-05-03T10:15:00.000Z";
    repo.finish_job(failed, "2024-05-03T10:01:00.000Z");

    const auto job = repo.find_job("job-2");
    CHECK(job->watermark_before == "2024-04-30T00:00:00Z");
    CHECK(job->watermark_after == "2024-04-30T00:00:00Z");
    CHECK(repo.find_patient(key)->watermark == "2024-04-30T00:00:00Z");
    CHECK(repo.find_patient(key)->next_sync_at == "2024-05-03T10:15:00.000Z");
    CHECK(count_rows(db, "SELECT count(*) FROM mirror_outbox") == 2);
}

TEST_CASE("jobs are listed newest first and filtered", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto a = repo.add_patient("001A", "p1", "t1", 3600);
    const auto b = repo.add_patient("001B", "p2", "t2", 3600);
    repo.start_job("job-a1", *repo.find_patient(a), "manual", "2024-05-01T10:00:00.000Z");
    repo.finish_job(completed_job("job-a1", a), "2024-05-01T10:01:00.000Z");
    repo.start_job("job-b1", *repo.find_patient(b), "manual", "2024-05-02T10:00:00.000Z");
    repo.start_job("job-a2", *repo.find_patient(a), "manual", "2024-05-03T10:00:00.000Z");

    auto ids = [](const std::vector<bbsync::job_record>& jobs) {
        std::vector<std::string> result;
        for (const auto& job : jobs)
        {
            result.push_back(job.job_id);
        }
        return result;
    };
    CHECK(ids(repo.list_jobs({})) == std::vector<std::string>{"job-a2", "job-b1", "job-a1"});
    CHECK(
        ids(repo.list_jobs({std::string("001A"), std::nullopt, 50})) ==
        std::vector<std::string>{"job-a2", "job-a1"}
    );
    CHECK(
        ids(repo.list_jobs({std::nullopt, std::string("Completed"), 50})) ==
        std::vector<std::string>{"job-a1"}
    );
    CHECK(ids(repo.list_jobs({std::nullopt, std::nullopt, 1})) == std::vector<std::string>{"job-a2"});
}

TEST_CASE("interrupted jobs are marked Failed", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "t1", 3600);
    const auto done = repo.add_patient("001B", "p2", "t2", 3600);
    repo.start_job("job-1", *repo.find_patient(key), "schedule", "2024-05-01T10:00:00.000Z");
    repo.start_job("job-done", *repo.find_patient(done), "schedule", "2024-05-01T10:00:00.000Z");
    repo.finish_job(completed_job("job-done", done), "2024-05-01T10:01:00.000Z");
    CHECK(repo.due_patients("2024-05-01T11:00:00.000Z", 10).empty());

    const std::string now = "2024-05-01T11:00:00.000Z";
    CHECK(repo.fail_interrupted_jobs(now) == 1);

    const auto job = repo.find_job("job-1");
    REQUIRE(job);
    CHECK(job->status == "Failed");
    CHECK(job->last_error_class == "job.interrupted");
    CHECK(job->end_time == now);
    CHECK(job->mirror_state == "pending");
    CHECK(repo.find_job("job-done")->status == "Completed");
    CHECK(repo.find_patient(key)->next_sync_at == now);
    CHECK(sf_ids(repo.due_patients(now, 10)) == std::vector<std::string>{"001A"});
    CHECK(count_rows(db, "SELECT count(*) FROM mirror_outbox WHERE job_id = 'job-1'") == 1);
    CHECK(repo.fail_interrupted_jobs(now) == 0);
}

TEST_CASE("mirrored job leaves the outbox", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "t1", 3600);
    repo.start_job("job-1", *repo.find_patient(key), "manual", "2024-05-01T10:00:00.000Z");
    repo.finish_job(completed_job("job-1", key), "2024-05-01T10:01:00.000Z");

    CHECK(repo.pending_mirror("2024-05-01T10:00:59.000Z", 10).empty());
    const auto pending = repo.pending_mirror("2024-05-01T10:01:00.000Z", 10);
    REQUIRE(pending.size() == 1);
    CHECK(pending.front().job_id == "job-1");
    CHECK(pending.front().status == "Completed");
    CHECK(pending.front().summary == "ExplanationOfBenefit: 4 written");

    repo.mark_mirrored("job-1", "2024-05-01T10:02:00.000Z");
    CHECK(repo.pending_mirror(far_future, 10).empty());
    CHECK(count_rows(db, "SELECT count(*) FROM mirror_outbox") == 0);
    CHECK(repo.find_job("job-1")->mirror_state == "mirrored");
}

TEST_CASE("failed mirror attempt is rescheduled", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "t1", 3600);
    repo.start_job("job-1", *repo.find_patient(key), "manual", "2024-05-01T10:00:00.000Z");
    repo.finish_job(completed_job("job-1", key), "2024-05-01T10:01:00.000Z");

    repo.mark_mirror_failed("job-1", "2024-05-01T10:05:00.000Z", "salesforce.http_503", false);
    CHECK(repo.find_job("job-1")->mirror_state == "pending");
    CHECK(repo.pending_mirror("2024-05-01T10:04:59.000Z", 10).empty());
    CHECK(repo.pending_mirror("2024-05-01T10:05:00.000Z", 10).size() == 1);

    repo.mark_mirror_failed(
        "job-1", "2024-05-01T11:00:00.000Z", "salesforce.http_403.REQUEST_LIMIT_EXCEEDED", true
    );
    CHECK(repo.find_job("job-1")->mirror_state == "paused");
    CHECK(count_rows(db, "SELECT attempts FROM mirror_outbox WHERE job_id = 'job-1'") == 2);
    CHECK(
        count_rows(
            db,
            "SELECT count(*) FROM mirror_outbox WHERE job_id = 'job-1' AND "
            "last_error_class = 'salesforce.http_403.REQUEST_LIMIT_EXCEEDED'"
        ) == 1
    );
}

TEST_CASE("rotated token clears refresh in flight", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "refresh-one", 3600);

    repo.mark_refresh_in_flight(key);
    CHECK(repo.find_patient(key)->refresh_in_flight);
    CHECK(repo.refresh_token(key) == "refresh-one");

    repo.store_rotated_token(key, "refresh-two");
    CHECK_FALSE(repo.find_patient(key)->refresh_in_flight);
    CHECK(repo.refresh_token(key) == "refresh-two");

    repo.mark_refresh_in_flight(key);
    repo.clear_refresh_in_flight(key);
    CHECK_FALSE(repo.find_patient(key)->refresh_in_flight);
    CHECK(repo.refresh_token(key) == "refresh-two");
}

TEST_CASE("renewal required stops scheduling", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "refresh-one", 3600);
    repo.mark_refresh_in_flight(key);
    repo.mark_renewal_required(key);

    const auto patient = repo.find_patient(key);
    CHECK(patient->consent_state == "renewal_required");
    CHECK_FALSE(patient->refresh_in_flight);
    CHECK(repo.due_patients(far_future, 10).empty());
}

TEST_CASE("reset watermark makes patient due", "[daemon][repository]")
{
    auto db = migrated_database();
    repository repo(db);
    const auto key = repo.add_patient("001A", "p1", "refresh-one", 3600);
    repo.start_job("job-1", *repo.find_patient(key), "manual", "2024-05-01T10:00:00.000Z");
    auto result = completed_job("job-1", key);
    result.next_sync_at = "2998-01-01T00:00:00.000Z";
    repo.finish_job(result, "2024-05-01T10:01:00.000Z");
    REQUIRE(repo.find_patient(key)->watermark);

    CHECK(repo.reset_watermark("001A"));
    CHECK_FALSE(repo.find_patient(key)->watermark);
    CHECK(repo.find_patient(key)->next_sync_at < "2998-01-01T00:00:00.000Z");
    CHECK(sf_ids(repo.due_patients(far_future, 10)) == std::vector<std::string>{"001A"});
    CHECK_FALSE(repo.reset_watermark("001Z"));
}

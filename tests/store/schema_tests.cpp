#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <string>

#include "store/clock.hpp"
#include "store/database.hpp"
#include "store/error.hpp"
#include "store/migrations.hpp"

using bbsync::store::database;

namespace {

database open_migrated()
{
    auto db = database::open(":memory:");
    bbsync::store::migrate(db, bbsync::store::load_migrations(bbsync::store::project_migrations()));
    return db;
}

// Returns the detail column of EXPLAIN QUERY PLAN, one line per plan step.
std::string query_plan(database& db, const std::string& sql)
{
    auto plan = db.prepare("EXPLAIN QUERY PLAN " + sql);
    std::string text;
    while (plan.step())
    {
        text += plan.column_text(3);
        text += '\n';
    }
    return text;
}

void insert_patient(database& db, const char* sf_patient_id, const std::string& next_sync_at)
{
    const std::string now = bbsync::store::utc_now_iso();
    db.prepare(R"sql(
        INSERT INTO patients (sf_patient_id, payer_patient_id, refresh_token, next_sync_at,
                              created_at, updated_at)
        VALUES (?, ?, 'token', ?, ?, ?)
    )sql")
        .bind(1, sf_patient_id)
        .bind(2, std::string("payer-") + sf_patient_id)
        .bind(3, next_sync_at)
        .bind(4, now)
        .bind(5, now)
        .execute();
}

}  // namespace

TEST_CASE("due query searches the next-sync index", "[store]")
{
    auto db = open_migrated();
    const std::string plan = query_plan(
        db,
        "SELECT patient_key FROM patients WHERE consent_state = 'active' AND next_sync_at <= ? "
        "ORDER BY next_sync_at LIMIT 100"
    );
    INFO("query plan:\n" << plan);
    // patient_key is the rowid, which every index entry contains, so SQLite 3.40 reads only the
    // index and reports it as a covering index.
    CHECK_THAT(
        plan,
        Catch::StartsWith("SEARCH patients USING INDEX patients_by_next_sync") ||
            Catch::StartsWith("SEARCH patients USING COVERING INDEX patients_by_next_sync")
    );
    CHECK_THAT(plan, !Catch::Contains("SCAN"));
    CHECK_THAT(plan, !Catch::Contains("TEMP B-TREE"));
}

TEST_CASE("due_patients view searches indexes only", "[store]")
{
    auto db = open_migrated();
    const std::string plan = query_plan(db, "SELECT * FROM due_patients ORDER BY next_sync_at LIMIT 100");
    INFO("query plan:\n" << plan);
    CHECK_THAT(plan, Catch::Contains("SEARCH patients USING INDEX patients_by_next_sync"));
    CHECK_THAT(plan, Catch::Contains("SEARCH j USING INDEX sync_jobs_by_patient"));
    CHECK_THAT(plan, !Catch::Contains("SCAN"));
    CHECK_THAT(plan, !Catch::Contains("TEMP B-TREE"));
}

TEST_CASE("due_patients skips patients with open jobs", "[store]")
{
    auto db = open_migrated();
    insert_patient(db, "001A", "2000-01-01T00:00:00.000Z");
    insert_patient(db, "002B", "2000-01-02T00:00:00.000Z");
    insert_patient(db, "003C", "9999-01-01T00:00:00.000Z");
    db.execute(R"sql(
        INSERT INTO sync_jobs (job_id, patient_key, sf_patient_id, trigger, status, start_time)
        SELECT 'job-1', patient_key, sf_patient_id, 'schedule', 'InProgress', '2000-01-02T00:00:00.000Z'
        FROM patients WHERE sf_patient_id = '002B'
    )sql");

    auto due = db.prepare("SELECT sf_patient_id FROM due_patients ORDER BY next_sync_at");
    REQUIRE(due.step());
    CHECK(due.column_text(0) == "001A");
    CHECK_FALSE(due.step());
}

TEST_CASE("schema enforces foreign keys", "[store]")
{
    auto db = open_migrated();
    try
    {
        db.execute(R"sql(
            INSERT INTO sync_jobs (job_id, patient_key, sf_patient_id, trigger, start_time)
            VALUES ('job-1', 12345, '001A', 'manual', '2026-01-01T00:00:00.000Z')
        )sql");
        FAIL("insert succeeded");
    }
    catch (const bbsync::store::error& e)
    {
        CHECK(e.extended_code() == SQLITE_CONSTRAINT_FOREIGNKEY);
    }
}

TEST_CASE("deleting a patient cascades to jobs and outbox", "[store]")
{
    auto db = open_migrated();
    insert_patient(db, "001A", "2000-01-01T00:00:00.000Z");
    db.execute(R"sql(
        INSERT INTO sync_jobs (job_id, patient_key, sf_patient_id, trigger, start_time)
        SELECT 'job-1', patient_key, sf_patient_id, 'api', '2026-01-01T00:00:00.000Z' FROM patients;
        INSERT INTO mirror_outbox (job_id, enqueued_at, next_attempt_at)
        VALUES ('job-1', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
        DELETE FROM patients;
    )sql");

    auto count = db.prepare("SELECT (SELECT count(*) FROM sync_jobs) + (SELECT count(*) FROM mirror_outbox)");
    REQUIRE(count.step());
    CHECK(count.column_int64(0) == 0);
}

TEST_CASE("job_history reports the duration in seconds", "[store]")
{
    auto db = open_migrated();
    insert_patient(db, "001A", "2000-01-01T00:00:00.000Z");
    db.execute(R"sql(
        INSERT INTO sync_jobs (job_id, patient_key, sf_patient_id, trigger, status, start_time, end_time)
        SELECT 'job-1', patient_key, sf_patient_id, 'manual', 'Completed',
               '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:02.500Z'
        FROM patients
    )sql");

    auto history = db.prepare("SELECT duration_s FROM job_history WHERE job_id = 'job-1'");
    REQUIRE(history.step());
    CHECK(history.column_double(0) == Approx(62.5));
}

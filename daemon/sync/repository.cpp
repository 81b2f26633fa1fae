#include "daemon/sync/repository.hpp"

#include <stdexcept>

#include "store/error.hpp"
#include "store/statement.hpp"
#include "store/transaction.hpp"

namespace bbsync {
namespace {

constexpr const char* patient_columns =
    "patient_key, sf_patient_id, payer_patient_id, refresh_token IS NOT NULL, refresh_in_flight, "
    "consent_state, watermark, sync_interval_s, next_sync_at, claim_data_ingestion";

patient_record read_patient(const store::statement& row)
{
    patient_record patient;
    patient.key = row.column_int64(0);
    patient.sf_patient_id = row.column_text(1);
    patient.payer_patient_id = row.column_text(2);
    patient.has_refresh_token = row.column_int64(3) != 0;
    patient.refresh_in_flight = row.column_int64(4) != 0;
    patient.consent_state = row.column_text(5);
    patient.watermark = row.column_optional_text(6);
    patient.sync_interval_s = row.column_int64(7);
    patient.next_sync_at = row.column_text(8);
    if (auto flag = row.column_optional_int64(9))
    {
        patient.claim_data_ingestion = *flag != 0;
    }
    return patient;
}

constexpr const char* job_columns =
    "job_id, patient_key, sf_patient_id, trigger, status, summary, claim_data_status, claim_data_summary, "
    "start_time, end_time, watermark_before, watermark_after, pages_fetched, eobs_fetched, "
    "resources_written, "
    "resources_failed, last_error_class, mirror_state, claim_data_ingestion";

job_record read_job(const store::statement& row)
{
    job_record job;
    job.job_id = row.column_text(0);
    job.patient_key = row.column_int64(1);
    job.sf_patient_id = row.column_text(2);
    job.trigger = row.column_text(3);
    job.status = row.column_text(4);
    job.summary = row.column_text(5);
    job.claim_data_status = row.column_text(6);
    job.claim_data_summary = row.column_text(7);
    job.start_time = row.column_text(8);
    job.end_time = row.column_optional_text(9);
    job.watermark_before = row.column_optional_text(10);
    job.watermark_after = row.column_optional_text(11);
    job.pages_fetched = row.column_int64(12);
    job.eobs_fetched = row.column_int64(13);
    job.resources_written = row.column_int64(14);
    job.resources_failed = row.column_int64(15);
    job.last_error_class = row.column_optional_text(16);
    job.mirror_state = row.column_text(17);
    job.claim_data_ingestion = row.column_int64(18) != 0;
    return job;
}

}  // namespace

repository::repository(store::database& db) : db_(db) {}

repository::repository(store::database& db, std::shared_ptr<const token_cipher> cipher)
    : db_(db), cipher_(std::move(cipher))
{}

std::int64_t repository::add_patient(
    const std::string& sf_patient_id,
    const std::string& payer_patient_id,
    const std::string& refresh_token,
    std::int64_t sync_interval_s
)
{
    store::transaction tx(db_);
    auto insert =
        db_.prepare("INSERT INTO patients (sf_patient_id, payer_patient_id, refresh_token, sync_interval_s, "
                    "next_sync_at, "
                    "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
                    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
    insert.bind(1, sf_patient_id).bind(2, payer_patient_id).bind(4, sync_interval_s);
    if (cipher_)
    {
        insert.bind(3, nullptr);
    }
    else
    {
        insert.bind(3, refresh_token);
    }
    try
    {
        insert.execute();
    }
    catch (const store::error& e)
    {
        if (e.extended_code() == 2067 /* SQLITE_CONSTRAINT_UNIQUE */)
        {
            throw std::invalid_argument("patient " + sf_patient_id + " is already registered");
        }
        throw;
    }
    const auto key = db_.last_insert_rowid();

    // The ciphertext is bound to the row key, which exists only after the insert.
    if (cipher_)
    {
        auto seal = db_.prepare("UPDATE patients SET refresh_token = ?2, refresh_token_key_id = ?3 "
                                "WHERE patient_key = ?1");
        seal.bind(1, key).bind(2, cipher_->seal(refresh_token, key)).bind(3, cipher_->key_id());
        seal.execute();
    }
    tx.commit();
    return key;
}

std::optional<patient_record> repository::find_patient(std::int64_t key)
{
    auto query =
        db_.prepare(std::string("SELECT ") + patient_columns + " FROM patients WHERE patient_key = ?1");
    query.bind(1, key);
    if (!query.step())
    {
        return std::nullopt;
    }
    return read_patient(query);
}

std::optional<patient_record> repository::find_patient_by_sf_id(const std::string& sf_patient_id)
{
    auto query =
        db_.prepare(std::string("SELECT ") + patient_columns + " FROM patients WHERE sf_patient_id = ?1");
    query.bind(1, sf_patient_id);
    if (!query.step())
    {
        return std::nullopt;
    }
    return read_patient(query);
}

std::vector<patient_record> repository::list_patients()
{
    auto query =
        db_.prepare(std::string("SELECT ") + patient_columns + " FROM patients ORDER BY patient_key");
    std::vector<patient_record> patients;
    while (query.step())
    {
        patients.push_back(read_patient(query));
    }
    return patients;
}

bool repository::remove_patient(const std::string& sf_patient_id)
{
    store::transaction tx(db_);
    auto remove = db_.prepare("DELETE FROM patients WHERE sf_patient_id = ?1");
    remove.bind(1, sf_patient_id);
    remove.execute();
    const bool removed = db_.changes() > 0;
    tx.commit();
    return removed;
}

bool repository::reset_watermark(const std::string& sf_patient_id)
{
    store::transaction tx(db_);
    auto update = db_.prepare(
        "UPDATE patients SET watermark = NULL, next_sync_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
        "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE sf_patient_id = ?1"
    );
    update.bind(1, sf_patient_id);
    update.execute();
    const bool found = db_.changes() > 0;
    tx.commit();
    return found;
}

std::vector<patient_record> repository::due_patients(const std::string& now, int limit)
{
    auto query = db_.prepare(
        std::string("SELECT ") + patient_columns +
        " FROM patients WHERE consent_state = 'active' AND next_sync_at <= ?1 AND refresh_token IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM sync_jobs j WHERE j.patient_key = patients.patient_key "
        "AND j.status IN ('New', 'InProgress')) ORDER BY next_sync_at LIMIT ?2"
    );
    query.bind(1, now).bind(2, limit);
    std::vector<patient_record> patients;
    while (query.step())
    {
        patients.push_back(read_patient(query));
    }
    return patients;
}

std::optional<std::string> repository::refresh_token(std::int64_t key)
{
    auto query =
        db_.prepare("SELECT refresh_token, refresh_token_key_id FROM patients WHERE patient_key = ?1");
    query.bind(1, key);
    if (!query.step())
    {
        return std::nullopt;
    }
    auto stored = query.column_optional_text(0);
    const auto key_id = query.column_optional_text(1);
    if (!stored || !key_id)
    {
        return stored;
    }
    if (!cipher_)
    {
        throw token_cipher_error(
            "the refresh token of patient " + std::to_string(key) + " is encrypted with key id " + *key_id +
            " but no token key is configured: set tokens.keyFile or the credential token-key"
        );
    }
    return cipher_->open(*stored, *key_id, key);
}

token_protection_report repository::protect_refresh_tokens()
{
    token_protection_report report;
    if (!cipher_)
    {
        auto count = db_.prepare(
            "SELECT count(refresh_token_key_id), count(refresh_token) - count(refresh_token_key_id) "
            "FROM patients WHERE refresh_token IS NOT NULL"
        );
        count.step();
        if (count.column_int64(0) > 0)
        {
            throw token_cipher_error(
                std::to_string(count.column_int64(0)) +
                " stored refresh token(s) are encrypted but no token key is configured: set "
                "tokens.keyFile or the credential token-key to the key file used so far"
            );
        }
        report.plaintext = static_cast<int>(count.column_int64(1));
        return report;
    }

    // Freed plaintext must not survive in free space or the WAL once it is encrypted.
    db_.execute("PRAGMA secure_delete = ON");
    {
        store::transaction tx(db_);
        auto query = db_.prepare(
            "SELECT patient_key, refresh_token, refresh_token_key_id FROM patients "
            "WHERE refresh_token IS NOT NULL AND (refresh_token_key_id IS NULL OR refresh_token_key_id != ?1)"
        );
        query.bind(1, cipher_->key_id());
        // Read every row first, because SQLite leaves undefined whether a running SELECT returns
        // rows that the same connection updates meanwhile.
        struct stored_token
        {
            std::int64_t key = 0;
            std::string text;
            std::optional<std::string> key_id;
        };
        std::vector<stored_token> rows;
        while (query.step())
        {
            rows.push_back({query.column_int64(0), query.column_text(1), query.column_optional_text(2)});
        }
        auto update = db_.prepare(
            "UPDATE patients SET refresh_token = ?2, refresh_token_key_id = ?3 WHERE patient_key = ?1"
        );
        for (const auto& row : rows)
        {
            const auto token = row.key_id ? cipher_->open(row.text, *row.key_id, row.key) : row.text;
            update.bind(1, row.key).bind(2, cipher_->seal(token, row.key)).bind(3, cipher_->key_id());
            update.execute();
            ++(row.key_id ? report.reencrypted : report.encrypted);
        }
        tx.commit();
    }
    if (report.encrypted + report.reencrypted > 0)
    {
        db_.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    return report;
}

void repository::mark_refresh_in_flight(std::int64_t key)
{
    store::transaction tx(db_);
    auto update = db_.prepare(
        "UPDATE patients SET refresh_in_flight = 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
        "WHERE patient_key = ?1"
    );
    update.bind(1, key);
    update.execute();
    tx.commit();
}

void repository::store_rotated_token(std::int64_t key, const std::string& refresh_token)
{
    store::transaction tx(db_);
    auto update = db_.prepare("UPDATE patients SET refresh_token = ?2, refresh_token_key_id = ?3, "
                              "refresh_in_flight = 0, "
                              "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE patient_key = ?1");
    update.bind(1, key);
    if (cipher_)
    {
        update.bind(2, cipher_->seal(refresh_token, key)).bind(3, cipher_->key_id());
    }
    else
    {
        update.bind(2, refresh_token).bind(3, nullptr);
    }
    update.execute();
    tx.commit();
}

void repository::clear_refresh_in_flight(std::int64_t key)
{
    store::transaction tx(db_);
    auto update = db_.prepare("UPDATE patients SET refresh_in_flight = 0 WHERE patient_key = ?1");
    update.bind(1, key);
    update.execute();
    tx.commit();
}

void repository::mark_renewal_required(std::int64_t key)
{
    store::transaction tx(db_);
    auto update =
        db_.prepare("UPDATE patients SET consent_state = 'renewal_required', refresh_in_flight = 0, "
                    "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE patient_key = ?1");
    update.bind(1, key);
    update.execute();
    tx.commit();
}

void repository::start_job(
    const std::string& job_id,
    const patient_record& patient,
    const std::string& trigger,
    const std::string& start_time,
    bool claim_data_ingestion
)
{
    store::transaction tx(db_);
    auto insert = db_.prepare("INSERT INTO sync_jobs (job_id, patient_key, sf_patient_id, trigger, status, "
                              "start_time, watermark_before, "
                              "claim_data_ingestion) VALUES (?1, ?2, ?3, ?4, 'New', ?5, ?6, ?7)");
    insert.bind(1, job_id)
        .bind(2, patient.key)
        .bind(3, patient.sf_patient_id)
        .bind(4, trigger)
        .bind(5, start_time)
        .bind(6, patient.watermark)
        .bind(7, claim_data_ingestion ? 1 : 0);
    insert.execute();
    auto progress = db_.prepare("UPDATE sync_jobs SET status = 'InProgress' WHERE job_id = ?1");
    progress.bind(1, job_id);
    progress.execute();
    tx.commit();
}

void repository::finish_job(const job_result& result, const std::string& end_time)
{
    store::transaction tx(db_);
    auto update = db_.prepare(
        "UPDATE sync_jobs SET status = ?2, summary = ?3, claim_data_status = ?4, claim_data_summary = ?5, "
        "end_time = ?6, pages_fetched = ?7, eobs_fetched = ?8, resources_written = ?9, resources_failed = "
        "?10, "
        "last_error_class = ?11, watermark_after = coalesce(?12, watermark_before), mirror_state = 'pending' "
        "WHERE job_id = ?1"
    );
    update.bind(1, result.job_id)
        .bind(2, result.status)
        .bind(3, result.summary)
        .bind(4, result.claim_data_status)
        .bind(5, result.claim_data_summary)
        .bind(6, end_time)
        .bind(7, result.pages_fetched)
        .bind(8, result.eobs_fetched)
        .bind(9, result.resources_written)
        .bind(10, result.resources_failed)
        .bind(11, result.last_error_class)
        .bind(12, result.new_watermark);
    update.execute();

    auto patient = db_.prepare(
        "UPDATE patients SET watermark = coalesce(?2, watermark), next_sync_at = ?3, updated_at = ?4 "
        "WHERE patient_key = ?1"
    );
    patient.bind(1, result.patient_key)
        .bind(2, result.new_watermark)
        .bind(3, result.next_sync_at)
        .bind(4, end_time);
    patient.execute();

    auto outbox =
        db_.prepare("INSERT INTO mirror_outbox (job_id, enqueued_at, next_attempt_at) VALUES (?1, ?2, ?2) "
                    "ON CONFLICT (job_id) DO UPDATE SET enqueued_at = excluded.enqueued_at, next_attempt_at "
                    "= excluded.enqueued_at");
    outbox.bind(1, result.job_id).bind(2, end_time);
    outbox.execute();
    tx.commit();
}

int repository::fail_interrupted_jobs(const std::string& now)
{
    store::transaction tx(db_);
    auto interrupted =
        db_.prepare("SELECT job_id, patient_key FROM sync_jobs WHERE status IN ('New', 'InProgress')");
    std::vector<std::pair<std::string, std::int64_t>> jobs;
    while (interrupted.step())
    {
        jobs.emplace_back(interrupted.column_text(0), interrupted.column_int64(1));
    }
    auto fail = db_.prepare(
        "UPDATE sync_jobs SET status = 'Failed', end_time = ?2, last_error_class = 'job.interrupted', "
        "summary = 'The job was interrupted: bbsync stopped before it finished. Data written before the stop "
        "is "
        "kept and the patient is synced again.', "
        "claim_data_status = CASE claim_data_status WHEN 'InProgress' THEN 'Failed' ELSE claim_data_status "
        "END, "
        "mirror_state = 'pending' WHERE job_id = ?1"
    );
    auto due = db_.prepare("UPDATE patients SET next_sync_at = ?2 WHERE patient_key = ?1");
    auto outbox =
        db_.prepare("INSERT INTO mirror_outbox (job_id, enqueued_at, next_attempt_at) VALUES (?1, ?2, ?2) "
                    "ON CONFLICT (job_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at");
    for (const auto& [job_id, patient_key] : jobs)
    {
        fail.bind(1, job_id).bind(2, now);
        fail.execute();
        due.bind(1, patient_key).bind(2, now);
        due.execute();
        outbox.bind(1, job_id).bind(2, now);
        outbox.execute();
    }
    tx.commit();
    return static_cast<int>(jobs.size());
}

std::optional<job_record> repository::find_job(const std::string& job_id)
{
    auto query = db_.prepare(std::string("SELECT ") + job_columns + " FROM sync_jobs WHERE job_id = ?1");
    query.bind(1, job_id);
    if (!query.step())
    {
        return std::nullopt;
    }
    return read_job(query);
}

std::vector<job_record> repository::list_jobs(const job_filter& filter)
{
    auto query = db_.prepare(
        std::string("SELECT ") + job_columns +
        " FROM sync_jobs WHERE (?1 IS NULL OR sf_patient_id = ?1) AND (?2 IS NULL OR status = ?2) "
        "ORDER BY start_time DESC, job_id LIMIT ?3"
    );
    query.bind(1, filter.sf_patient_id).bind(2, filter.status).bind(3, filter.limit);
    std::vector<job_record> jobs;
    while (query.step())
    {
        jobs.push_back(read_job(query));
    }
    return jobs;
}

std::vector<job_record> repository::pending_mirror(const std::string& now, int limit)
{
    std::string sql = "SELECT ";
    for (std::string_view column :
         {"j.job_id",
          "j.patient_key",
          "j.sf_patient_id",
          "j.trigger",
          "j.status",
          "j.summary",
          "j.claim_data_status",
          "j.claim_data_summary",
          "j.start_time",
          "j.end_time",
          "j.watermark_before",
          "j.watermark_after",
          "j.pages_fetched",
          "j.eobs_fetched",
          "j.resources_written",
          "j.resources_failed",
          "j.last_error_class",
          "j.mirror_state",
          "j.claim_data_ingestion"})
    {
        sql.append(column).append(", ");
    }
    sql.resize(sql.size() - 2);
    sql += " FROM mirror_outbox o JOIN sync_jobs j ON j.job_id = o.job_id WHERE o.next_attempt_at <= ?1 "
           "ORDER BY o.enqueued_at LIMIT ?2";
    auto query = db_.prepare(sql);
    query.bind(1, now).bind(2, limit);
    std::vector<job_record> jobs;
    while (query.step())
    {
        jobs.push_back(read_job(query));
    }
    return jobs;
}

void repository::mark_mirrored(const std::string& job_id, const std::string& now)
{
    store::transaction tx(db_);
    auto update =
        db_.prepare("UPDATE sync_jobs SET mirror_state = 'mirrored', mirrored_at = ?2 WHERE job_id = ?1");
    update.bind(1, job_id).bind(2, now);
    update.execute();
    auto remove = db_.prepare("DELETE FROM mirror_outbox WHERE job_id = ?1");
    remove.bind(1, job_id);
    remove.execute();
    tx.commit();
}

void repository::mark_mirror_failed(
    const std::string& job_id, const std::string& next_attempt_at, const std::string& error_class, bool paused
)
{
    store::transaction tx(db_);
    auto update = db_.prepare(
        "UPDATE mirror_outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error_class = ?3 "
        "WHERE job_id = ?1"
    );
    update.bind(1, job_id).bind(2, next_attempt_at).bind(3, error_class);
    update.execute();
    auto state = db_.prepare("UPDATE sync_jobs SET mirror_state = ?2 WHERE job_id = ?1");
    state.bind(1, job_id).bind(2, paused ? "paused" : "pending");
    state.execute();
    tx.commit();
}

std::optional<std::string> repository::practitioner_id(const std::string& npi)
{
    auto query = db_.prepare("SELECT practitioner_id FROM practitioner_ids WHERE npi = ?1");
    query.bind(1, npi);
    if (!query.step())
    {
        return std::nullopt;
    }
    return query.column_text(0);
}

void repository::remember_practitioner(
    const std::string& npi, const std::string& practitioner_id, const std::string& now
)
{
    store::transaction tx(db_);
    auto upsert =
        db_.prepare("INSERT INTO practitioner_ids (npi, practitioner_id, updated_at) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT (npi) DO UPDATE SET practitioner_id = excluded.practitioner_id, "
                    "updated_at = excluded.updated_at");
    upsert.bind(1, npi).bind(2, practitioner_id).bind(3, now);
    upsert.execute();
    tx.commit();
}

void repository::forget_practitioner(const std::string& npi)
{
    store::transaction tx(db_);
    auto remove = db_.prepare("DELETE FROM practitioner_ids WHERE npi = ?1");
    remove.bind(1, npi);
    remove.execute();
    tx.commit();
}

std::optional<salesforce_pause_record> repository::salesforce_pause()
{
    auto query = db_.prepare("SELECT paused_until, reason, paused_at FROM salesforce_pause WHERE id = 1");
    if (!query.step())
    {
        return std::nullopt;
    }
    return salesforce_pause_record{query.column_text(0), query.column_text(1), query.column_text(2)};
}

void repository::set_salesforce_pause(const salesforce_pause_record& pause)
{
    store::transaction tx(db_);
    auto upsert = db_.prepare(
        "INSERT INTO salesforce_pause (id, paused_until, reason, paused_at) VALUES (1, ?1, ?2, ?3) "
        "ON CONFLICT (id) DO UPDATE SET paused_until = excluded.paused_until, reason = excluded.reason, "
        "paused_at = excluded.paused_at"
    );
    upsert.bind(1, pause.paused_until).bind(2, pause.reason).bind(3, pause.paused_at);
    upsert.execute();
    tx.commit();
}

void repository::clear_salesforce_pause()
{
    store::transaction tx(db_);
    auto remove = db_.prepare("DELETE FROM salesforce_pause");
    remove.execute();
    tx.commit();
}

}  // namespace bbsync

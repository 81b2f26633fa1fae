#ifndef BBSYNC_DAEMON_SYNC_REPOSITORY_HPP
#define BBSYNC_DAEMON_SYNC_REPOSITORY_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace bbsync {

struct patient_record
{
    std::int64_t key = 0;
    std::string sf_patient_id;
    std::string payer_patient_id;
    bool has_refresh_token = false;
    bool refresh_in_flight = false;
    std::string consent_state;
    std::optional<std::string> watermark;
    std::int64_t sync_interval_s = 86400;
    std::string next_sync_at;
    std::optional<bool> claim_data_ingestion;
};

// The parts of a sync_jobs row that PatientSyncJob__c and the CLI show.
struct job_record
{
    std::string job_id;
    std::int64_t patient_key = 0;
    std::string sf_patient_id;
    std::string trigger;
    std::string status;
    std::string summary;
    std::string claim_data_status;
    std::string claim_data_summary;
    std::string start_time;
    std::optional<std::string> end_time;
    std::optional<std::string> watermark_before;
    std::optional<std::string> watermark_after;
    std::int64_t pages_fetched = 0;
    std::int64_t eobs_fetched = 0;
    std::int64_t resources_written = 0;
    std::int64_t resources_failed = 0;
    std::optional<std::string> last_error_class;
    std::string mirror_state;
    bool claim_data_ingestion = false;
};

// The outcome of a finished job, written in one transaction.
struct job_result
{
    std::string job_id;
    std::int64_t patient_key = 0;
    std::string status;
    std::string summary;
    std::string claim_data_status = "New";
    std::string claim_data_summary;
    std::int64_t pages_fetched = 0;
    std::int64_t eobs_fetched = 0;
    std::int64_t resources_written = 0;
    std::int64_t resources_failed = 0;
    std::optional<std::string> last_error_class;
    // Set only when the watermark moves forward.
    std::optional<std::string> new_watermark;
    std::string next_sync_at;
};

struct job_filter
{
    std::optional<std::string> sf_patient_id;
    std::optional<std::string> status;
    int limit = 50;
};

// All SQL of the daemon: patients, jobs and the mirror outbox. Every write is a short
// IMMEDIATE transaction that commits before the method returns, so no transaction spans a
// co_await. Methods throw store::error on database failures; lookups that find nothing
// return nullopt or false.
class repository
{
public:
    explicit repository(store::database& db);

    // Adds a consented patient, due at once. Returns the new internal key. Throws
    // std::invalid_argument if the Salesforce id is already registered.
    std::int64_t add_patient(
        const std::string& sf_patient_id,
        const std::string& payer_patient_id,
        const std::string& refresh_token,
        std::int64_t sync_interval_s
    );
    std::optional<patient_record> find_patient(std::int64_t key);
    std::optional<patient_record> find_patient_by_sf_id(const std::string& sf_patient_id);
    std::vector<patient_record> list_patients();
    // Returns whether a patient was removed; its jobs go with it.
    bool remove_patient(const std::string& sf_patient_id);
    // Clears the watermark and makes the patient due now. Returns false if not found.
    bool reset_watermark(const std::string& sf_patient_id);

    // Patients due at `now`, oldest due first, with consent and a stored token and no job
    // New or InProgress.
    std::vector<patient_record> due_patients(const std::string& now, int limit);

    // The stored refresh token, read just before a refresh.
    std::optional<std::string> refresh_token(std::int64_t key);
    // Records that a refresh is about to be sent with the stored token (committed first).
    void mark_refresh_in_flight(std::int64_t key);
    // Stores the rotated token and clears the in-flight mark, in one transaction.
    void store_rotated_token(std::int64_t key, const std::string& refresh_token);
    // Clears the in-flight mark when the refresh certainly did not reach the payer or was
    // rejected without rotating (bad client credentials).
    void clear_refresh_in_flight(std::int64_t key);
    // The payer rejected the token: the patient must consent again before the next sync.
    void mark_renewal_required(std::int64_t key);

    // Creates the job row New, then moves it to InProgress, in one transaction.
    void start_job(
        const std::string& job_id,
        const patient_record& patient,
        const std::string& trigger,
        const std::string& start_time,
        bool claim_data_ingestion = false
    );
    // Writes the outcome, the patient's new watermark and next due time, and queues the
    // job for mirroring, in one transaction.
    void finish_job(const job_result& result, const std::string& end_time);
    // Marks jobs left InProgress by an earlier process as Failed and makes their patients
    // due. Returns how many there were.
    int fail_interrupted_jobs(const std::string& now);

    std::optional<job_record> find_job(const std::string& job_id);
    std::vector<job_record> list_jobs(const job_filter& filter);

    // Jobs waiting for the mirror whose next attempt is due, oldest first.
    std::vector<job_record> pending_mirror(const std::string& now, int limit);
    void mark_mirrored(const std::string& job_id, const std::string& now);
    void mark_mirror_failed(
        const std::string& job_id,
        const std::string& next_attempt_at,
        const std::string& error_class,
        bool paused
    );

private:
    store::database& db_;
};

}  // namespace bbsync

#endif

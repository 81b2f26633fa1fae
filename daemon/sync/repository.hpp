#ifndef BBSYNC_DAEMON_SYNC_REPOSITORY_HPP
#define BBSYNC_DAEMON_SYNC_REPOSITORY_HPP

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/common/token_cipher.hpp"
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

// Salesforce writes wait until `paused_until` (UTC ISO-8601) because of `reason`, an error
// class such as "salesforce.http_403.REQUEST_LIMIT_EXCEEDED".
struct salesforce_pause_record
{
    std::string paused_until;
    std::string reason;
    std::string paused_at;
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

// Token counts from repository::protect_refresh_tokens.
struct token_protection_report
{
    int encrypted = 0;    // plaintext tokens now encrypted with the current key
    int reencrypted = 0;  // tokens moved from the previous key to the current key
    int plaintext = 0;    // plaintext tokens left as they are because no key is configured
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

    // With a cipher, refresh tokens are written encrypted under its current key, and stored
    // tokens are decrypted with its current or previous key. A null cipher keeps plaintext.
    repository(store::database& db, std::shared_ptr<const token_cipher> cipher);

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

    // The stored refresh token, read just before a refresh and decrypted when it was stored
    // encrypted. Throws token_cipher_error when it is encrypted and no configured key opens it.
    std::optional<std::string> refresh_token(std::int64_t key);
    // Encrypts every plaintext token and re-encrypts every token of the previous key with
    // the cipher's current key, in one transaction, then overwrites the freed plaintext
    // (secure_delete) and truncates the WAL. Without a cipher it only counts plaintext tokens.
    // Throws token_cipher_error when a token is encrypted under an unknown key, or when tokens
    // are encrypted and no cipher is configured.
    token_protection_report protect_refresh_tokens();
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

    // Returns the Health Cloud Practitioner id stored for the NPI, or nullopt.
    std::optional<std::string> practitioner_id(const std::string& npi);
    // Stores (or replaces) the Health Cloud Practitioner id of the NPI.
    void remember_practitioner(
        const std::string& npi, const std::string& practitioner_id, const std::string& now
    );
    // Removes the NPI's stored id, after Health Cloud stopped resolving it.
    void forget_practitioner(const std::string& npi);

    // Returns the stored Salesforce write pause, or nullopt when none was recorded.
    std::optional<salesforce_pause_record> salesforce_pause();
    // Records a pause of Salesforce writes until `paused_until`, replacing an earlier one.
    void set_salesforce_pause(const salesforce_pause_record& pause);
    // Removes the stored pause.
    void clear_salesforce_pause();

private:
    store::database& db_;
    std::shared_ptr<const token_cipher> cipher_;
};

}  // namespace bbsync

#endif

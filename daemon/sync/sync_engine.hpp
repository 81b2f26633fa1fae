#ifndef BBSYNC_DAEMON_SYNC_SYNC_ENGINE_HPP
#define BBSYNC_DAEMON_SYNC_SYNC_ENGINE_HPP

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "coro/https_client.hpp"
#include "coro/task_group.hpp"
#include "daemon/api/metrics.hpp"
#include "daemon/datacloud/datacloud_client.hpp"
#include "daemon/payer/payer_client.hpp"
#include "daemon/payer/token_manager.hpp"
#include "daemon/salesforce/salesforce_client.hpp"
#include "daemon/service/config.hpp"
#include "daemon/sync/eob_ledger.hpp"
#include "daemon/sync/repository.hpp"
#include "daemon/sync/sync_job.hpp"
#include "store/database.hpp"

namespace bbsync {

// Counts shown by the live progress line of a run.
struct sync_progress
{
    int patients_total = 0;
    int patients_done = 0;
    std::int64_t eobs = 0;
    // Jobs that did not end Completed.
    int errors = 0;
};

// Formats the progress line, e.g. "bbsync: 3/10 patients, 250 EOBs, 1 error". Pure.
std::string format_progress_line(const sync_progress& progress);

struct run_totals
{
    int jobs = 0;
    int completed = 0;
    int partially_completed = 0;
    int failed = 0;
    int mirrored = 0;
    int mirror_failures = 0;
};

// Wires the clients and the repository together and runs sync jobs: every due patient with
// at most bluebuttonIntegration.maxConcurrentSyncMessages jobs at once, then the mirror of
// finished jobs to PatientSyncJob__c.
class sync_engine
{
public:
    // Throws boost::system::system_error if the CA file cannot be loaded.
    sync_engine(boost::asio::any_io_executor executor, const config& settings, store::database& db);

    // Marks jobs left InProgress by an earlier process as Failed. Returns how many.
    int recover_interrupted_jobs();

    // Syncs every patient due now, waits for all jobs, then mirrors finished jobs once.
    // Database errors propagate; job failures are counted in the result.
    coro::awaitable<run_totals> run_once();

    // Runs one job for the patient now (trigger "manual"), due or not, then mirrors.
    coro::awaitable<run_totals> run_patient(patient_record patient);

    // Records an InProgress job with trigger "api" for the patient and starts it in the
    // background with the caller's payer access token. Returns the job id at once. Throws
    // store::error on database failures.
    std::string start_api_job(
        const patient_record& patient, std::string access_token, std::optional<bool> claim_data_ingestion
    );

    // Waits until every job started by start_api_job has finished; each of them mirrors the
    // finished jobs itself unless stopping. Cancelling the waiting coroutine cancels those jobs.
    // Rethrows the first database error or bug of those jobs.
    coro::awaitable<void> wait_api_jobs();

    // Returns whether the patient has a job New or InProgress. Throws store::error.
    bool has_active_job(const std::string& sf_patient_id);

    // Upserts every job whose mirror is due into PatientSyncJob__c, counting successes and
    // failures in `totals`: one job by the single-record upsert, several by Collections calls
    // of up to 200 records. A failed upsert is retried by a later pass with backoff. While
    // Salesforce writes are paused (REQUEST_LIMIT_EXCEEDED) nothing is sent and the jobs are
    // marked paused until the pause ends. Throws store::error on database failures.
    coro::awaitable<void> mirror_pending(run_totals& totals);

    // Stops handing out patients: running jobs finish, no new job starts, and run_once
    // skips the mirror pass (the outbox keeps the jobs for the next start).
    void stop() noexcept { stopping_ = true; }
    bool stopping() const noexcept { return stopping_; }

    // Makes run_once and run_patient draw a live progress line (patients done of total, EOBs,
    // jobs not Completed) on `fd` when it is a terminal. Returns whether it is one; when it is
    // not, nothing is written. Never throws.
    bool show_progress_on(int fd);

    repository& repo() noexcept { return repo_; }
    token_manager& tokens() noexcept { return tokens_; }
    coro::https_client& http() noexcept { return http_; }
    api::metrics& metrics() noexcept { return metrics_; }

private:
    coro::awaitable<void> api_job(patient_record patient, job_options options);
    // Each returns false when the rest of the pass must wait (an org-wide failure).
    coro::awaitable<bool> mirror_one(const job_record& job, run_totals& totals);
    coro::awaitable<bool> mirror_collection(std::span<const job_record> jobs, run_totals& totals);
    bool mirror_failed(std::span<const job_record> jobs, const failure& error, run_totals& totals);
    void start_progress(int patients_total);
    // Returns the EOB counter for sync_services, or an empty function when nothing is shown.
    std::function<void(std::int64_t)> progress_callback();
    void job_progressed(const job_result& result);
    void finish_progress();
    void draw_progress(bool last);
    // Loads a stored Salesforce write pause into the client, or clears one that has ended.
    void restore_pause();
    // Stores the client's current pause, so that later processes keep it.
    void persist_pause();
    coro::awaitable<void> job_worker(std::shared_ptr<std::vector<patient_record>> queue, run_totals& totals);

    boost::asio::any_io_executor executor_;
    const config& settings_;
    repository repo_;
    coro::https_client http_;
    payer_client payer_;
    salesforce_client salesforce_;
    datacloud_client datacloud_;
    token_manager tokens_;
    api::metrics metrics_;
    // Two pages per Healthcare API call slot keep Health Cloud busy while bounding memory by a
    // number of pages that does not grow with the number of jobs.
    coro::async_semaphore page_slots_;
    ledger_store ledgers_;
    coro::task_group api_jobs_;
    bool stopping_ = false;
    std::optional<int> progress_fd_;
    sync_progress progress_;
    std::optional<std::chrono::steady_clock::time_point> last_redraw_;
};

}  // namespace bbsync

#endif

#ifndef BBSYNC_DAEMON_SYNC_SYNC_ENGINE_HPP
#define BBSYNC_DAEMON_SYNC_SYNC_ENGINE_HPP

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>

#include "coro/https_client.hpp"
#include "coro/task_group.hpp"
#include "daemon/api/metrics.hpp"
#include "daemon/payer/payer_client.hpp"
#include "daemon/payer/token_manager.hpp"
#include "daemon/salesforce/salesforce_client.hpp"
#include "daemon/service/config.hpp"
#include "daemon/sync/repository.hpp"
#include "daemon/sync/sync_job.hpp"
#include "store/database.hpp"

namespace bbsync {

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
    // failures in `totals`. A failed upsert is retried by a later pass with backoff.
    coro::awaitable<void> mirror_pending(run_totals& totals);

    // Stops handing out patients: running jobs finish, no new job starts, and run_once
    // skips the mirror pass (the outbox keeps the jobs for the next start).
    void stop() noexcept { stopping_ = true; }
    bool stopping() const noexcept { return stopping_; }

    repository& repo() noexcept { return repo_; }
    token_manager& tokens() noexcept { return tokens_; }
    coro::https_client& http() noexcept { return http_; }
    api::metrics& metrics() noexcept { return metrics_; }

private:
    coro::awaitable<void> api_job(patient_record patient, job_options options);
    coro::awaitable<void> job_worker(std::shared_ptr<std::vector<patient_record>> queue, run_totals& totals);

    boost::asio::any_io_executor executor_;
    const config& settings_;
    repository repo_;
    coro::https_client http_;
    payer_client payer_;
    salesforce_client salesforce_;
    token_manager tokens_;
    api::metrics metrics_;
    coro::task_group api_jobs_;
    bool stopping_ = false;
};

}  // namespace bbsync

#endif

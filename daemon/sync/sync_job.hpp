#ifndef BBSYNC_DAEMON_SYNC_SYNC_JOB_HPP
#define BBSYNC_DAEMON_SYNC_SYNC_JOB_HPP

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coro/async_semaphore.hpp"
#include "coro/tokens.hpp"
#include "daemon/common/failure.hpp"
#include "daemon/sync/repository.hpp"

namespace bbsync {

struct config;
class datacloud_client;
class ledger_store;
class payer_client;
class salesforce_client;
class token_manager;

namespace api {
class metrics;
}

// The long-lived parts a sync job works with.
struct sync_services
{
    const config& settings;
    repository& repo;
    payer_client& payer;
    salesforce_client& salesforce;
    token_manager& tokens;
    // Request and job counters; null when nothing collects them.
    api::metrics* metrics = nullptr;
    // The Data Cloud Ingestion API client, or null when none is set up. Jobs with claim data
    // ingestion on then record their claim data as Failed with class datacloud.not_configured.
    datacloud_client* datacloud = nullptr;
    // Called with the number of EOBs of each page as it is processed; empty for none.
    std::function<void(std::int64_t)> on_eobs_fetched;
    // Slots that bound the EOB pages all jobs hold in memory, from the fetch until Health Cloud
    // has returned results for them. Null leaves only each job's batchCount as a bound.
    coro::async_semaphore* page_slots = nullptr;
    // Scratch storage for the EOB ids and times each job records. Null gives each job its own.
    ledger_store* ledgers = nullptr;
};

// Options of one job: its trigger and the choices of the caller that started it.
struct job_options
{
    // "schedule", "manual" or "api".
    std::string trigger;
    // Empty: a new id is made. Otherwise the id of a row that start_job already created.
    std::string job_id;
    // A payer access token given by the caller. The job then never refreshes: a 401 from the
    // payer fails it with class payer.unauthorized.
    std::optional<std::string> access_token;
    // Overrides the patient's setting and claimData.claimDataIngestion when set.
    std::optional<bool> claim_data_ingestion;
};

// Claim data summary of a job with claim data ingestion off; its claim data status stays New.
inline constexpr const char* claim_data_off_summary = "Claim data ingestion is off for this job.";

// Runs one sync job for the patient from start to finish and returns what it recorded.
// Every outcome, failures included, ends in a finished job row; only database errors and
// bugs throw. Honours cancellation: a cancelled job is recorded as Failed with class
// "job.cancelled".
coro::awaitable<job_result> run_sync_job(sync_services services, patient_record patient, std::string trigger);

// Runs one sync job like the overload above, with the caller's options. When
// `options.job_id` is set, the job row must already be InProgress (repository::start_job).
coro::awaitable<job_result> run_sync_job(sync_services services, patient_record patient, job_options options);

}  // namespace bbsync

#endif

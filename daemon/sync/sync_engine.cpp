#include "daemon/sync/sync_engine.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>

#include "coro/task_group.hpp"
#include "daemon/common/job_id.hpp"
#include "daemon/service/log.hpp"
#include "daemon/sync/sync_job.hpp"
#include "store/clock.hpp"

namespace asio = boost::asio;

namespace bbsync {
namespace {

coro::https_client_options client_options(const config& settings)
{
    coro::https_client_options options;
    options.timeouts.resolve = settings.resolve_timeout;
    options.timeouts.connect = settings.connect_timeout;
    options.timeouts.handshake = settings.handshake_timeout;
    options.timeouts.write = settings.write_timeout;
    options.timeouts.read = settings.read_timeout;
    options.max_connections_per_origin = static_cast<std::size_t>(
        std::max(settings.max_concurrent_sync_messages, settings.max_concurrent_bundle_calls)
    );
    options.user_agent = "bbsync/0.1";
    return options;
}

// Mirror retries back off from 30 s up to one hour.
std::chrono::seconds mirror_backoff(int attempts)
{
    return std::chrono::seconds(std::min<std::int64_t>(3600, std::int64_t{30} << std::min(attempts, 7)));
}

}  // namespace

sync_engine::sync_engine(asio::any_io_executor executor, const config& settings, store::database& db)
    : executor_(executor), settings_(settings), repo_(db),
      http_(executor, coro::make_tls_client_context(settings.ca_file), client_options(settings)),
      payer_(http_, settings), salesforce_(http_, settings, executor), tokens_(executor, repo_, payer_),
      api_jobs_(executor)
{}

int sync_engine::recover_interrupted_jobs()
{
    const int interrupted = repo_.fail_interrupted_jobs(store::utc_now_iso());
    if (interrupted > 0)
    {
        log::warning(
            "scheduler",
            std::to_string(interrupted) +
                " job(s) were interrupted by an earlier stop; marked Failed and due again"
        );
    }
    return interrupted;
}

coro::awaitable<run_totals> sync_engine::run_once()
{
    run_totals totals;
    auto due = repo_.due_patients(store::utc_now_iso(), 1'000'000);
    log::info("scheduler", std::to_string(due.size()) + " patient(s) due");

    // Workers take patients from one queue, so at most maxConcurrentSyncMessages jobs run.
    std::reverse(due.begin(), due.end());
    auto queue = std::make_shared<std::vector<patient_record>>(std::move(due));
    const auto workers = std::min<std::size_t>(
        static_cast<std::size_t>(settings_.max_concurrent_sync_messages), queue->size()
    );
    coro::task_group group(executor_);
    for (std::size_t i = 0; i < workers; ++i)
    {
        group.spawn(job_worker(queue, totals));
    }
    co_await group.wait();

    if (!stopping_)
    {
        co_await mirror_pending(totals);
    }
    log::info(
        "scheduler",
        "run finished: " + std::to_string(totals.jobs) + " job(s), " + std::to_string(totals.completed) +
            " Completed, " + std::to_string(totals.partially_completed) + " PartiallyCompleted, " +
            std::to_string(totals.failed) + " Failed; " + std::to_string(totals.mirrored) + " mirrored"
    );
    co_return totals;
}

coro::awaitable<run_totals> sync_engine::run_patient(patient_record patient)
{
    run_totals totals;
    sync_services services{settings_, repo_, payer_, salesforce_, tokens_, &metrics_};
    const std::string trigger = "manual";
    auto result = co_await run_sync_job(services, std::move(patient), trigger);
    ++totals.jobs;
    if (result.status == "Completed")
    {
        ++totals.completed;
    }
    else if (result.status == "PartiallyCompleted")
    {
        ++totals.partially_completed;
    }
    else
    {
        ++totals.failed;
    }
    if (!stopping_)
    {
        co_await mirror_pending(totals);
    }
    co_return totals;
}

std::string sync_engine::start_api_job(
    const patient_record& patient, std::string access_token, std::optional<bool> claim_data_ingestion
)
{
    job_options options;
    options.trigger = "api";
    options.job_id = make_job_id();
    options.access_token = std::move(access_token);
    options.claim_data_ingestion = claim_data_ingestion;

    // The row exists before the caller gets the id, so GET jobs/{id} finds it at once.
    repo_.start_job(
        options.job_id,
        patient,
        options.trigger,
        store::utc_now_iso(),
        claim_data_ingestion.value_or(patient.claim_data_ingestion.value_or(settings_.claim_data_ingestion))
    );
    auto job_id = options.job_id;
    api_jobs_.spawn(api_job(patient, std::move(options)));
    return job_id;
}

coro::awaitable<void> sync_engine::api_job(patient_record patient, job_options options)
{
    sync_services services{settings_, repo_, payer_, salesforce_, tokens_, &metrics_};
    co_await run_sync_job(services, std::move(patient), std::move(options));
    if (!stopping_)
    {
        run_totals totals;
        co_await mirror_pending(totals);
    }
}

coro::awaitable<void> sync_engine::wait_api_jobs() { co_await api_jobs_.wait(); }

bool sync_engine::has_active_job(const std::string& sf_patient_id)
{
    for (const char* status : {"New", "InProgress"})
    {
        job_filter filter;
        filter.sf_patient_id = sf_patient_id;
        filter.status = status;
        filter.limit = 1;
        if (!repo_.list_jobs(filter).empty())
        {
            return true;
        }
    }
    return false;
}

coro::awaitable<void> sync_engine::job_worker(
    std::shared_ptr<std::vector<patient_record>> queue, run_totals& totals
)
{
    sync_services services{settings_, repo_, payer_, salesforce_, tokens_, &metrics_};
    const std::string trigger = "schedule";
    while (!queue->empty() && !stopping_)
    {
        auto patient = std::move(queue->back());
        queue->pop_back();
        auto result = co_await run_sync_job(services, std::move(patient), trigger);
        ++totals.jobs;
        if (result.status == "Completed")
        {
            ++totals.completed;
        }
        else if (result.status == "PartiallyCompleted")
        {
            ++totals.partially_completed;
        }
        else
        {
            ++totals.failed;
        }
    }
}

coro::awaitable<void> sync_engine::mirror_pending(run_totals& totals)
{
    const auto jobs = repo_.pending_mirror(store::utc_now_iso(), 10'000);
    for (const auto& job : jobs)
    {
        auto upserted = co_await salesforce_.upsert_job(job);
        if (upserted)
        {
            repo_.mark_mirrored(job.job_id, store::utc_now_iso());
            ++totals.mirrored;
            continue;
        }
        ++totals.mirror_failures;
        const auto& error = upserted.error();
        const bool paused = error.error_class.find("REQUEST_LIMIT_EXCEEDED") != std::string::npos;
        const auto next = std::chrono::system_clock::now() + mirror_backoff(totals.mirror_failures);
        repo_.mark_mirror_failed(job.job_id, store::to_iso(next), error.error_class, paused);
        log::warning("mirror", "job " + job.job_id + ": " + error.message);
        const bool org_wide = paused || error.error_class.starts_with("salesforce.token") ||
                              error.error_class == "salesforce.unauthorized";
        if (org_wide)
        {
            // Every further upsert would fail the same way; the rest wait for the next pass.
            break;
        }
    }
}

}  // namespace bbsync

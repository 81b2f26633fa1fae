#include "daemon/sync/sync_engine.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>

#include <unistd.h>

#include <algorithm>

#include "coro/task_group.hpp"
#include "daemon/common/fhir_instant.hpp"
#include "daemon/common/job_id.hpp"
#include "daemon/service/log.hpp"
#include "daemon/sync/sync_job.hpp"
#include "store/clock.hpp"

namespace asio = boost::asio;

namespace bbsync {
namespace {

// The live progress line is redrawn at most this often.
constexpr auto progress_redraw_interval = std::chrono::milliseconds(200);

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
    : executor_(executor), settings_(settings), repo_(db, settings.refresh_token_cipher),
      http_(executor, coro::make_tls_client_context(settings.ca_file), client_options(settings)),
      payer_(http_, settings), salesforce_(http_, settings, executor), datacloud_(http_, settings, executor),
      tokens_(executor, repo_, payer_),
      page_slots_(executor, static_cast<std::size_t>(std::max(2, 2 * settings.max_concurrent_bundle_calls))),
      api_jobs_(executor)
{
    http_.set_observer([this](const coro::request_outcome& outcome) { metrics_.record_outcome(outcome); });
}

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
    restore_pause();
    auto due = repo_.due_patients(store::utc_now_iso(), 1'000'000);
    log::info("scheduler", std::to_string(due.size()) + " patient(s) due");

    // Workers take patients from one queue, so at most maxConcurrentSyncMessages jobs run.
    std::reverse(due.begin(), due.end());
    auto queue = std::make_shared<std::vector<patient_record>>(std::move(due));
    start_progress(static_cast<int>(queue->size()));
    const auto workers = std::min<std::size_t>(
        static_cast<std::size_t>(settings_.max_concurrent_sync_messages), queue->size()
    );
    coro::task_group group(executor_);
    for (std::size_t i = 0; i < workers; ++i)
    {
        group.spawn(job_worker(queue, totals));
    }
    co_await group.wait();
    persist_pause();
    finish_progress();

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
    restore_pause();
    start_progress(1);
    sync_services services{settings_, repo_, payer_, salesforce_, tokens_, &metrics_, &datacloud_};
    services.page_slots = &page_slots_;
    services.ledgers = &ledgers_;
    services.on_eobs_fetched = progress_callback();
    const std::string trigger = "manual";
    auto result = co_await run_sync_job(services, std::move(patient), trigger);
    persist_pause();
    job_progressed(result);
    finish_progress();
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
    restore_pause();
    sync_services services{settings_, repo_, payer_, salesforce_, tokens_, &metrics_, &datacloud_};
    services.page_slots = &page_slots_;
    services.ledgers = &ledgers_;
    co_await run_sync_job(services, std::move(patient), std::move(options));
    persist_pause();
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
    sync_services services{settings_, repo_, payer_, salesforce_, tokens_, &metrics_, &datacloud_};
    services.page_slots = &page_slots_;
    services.ledgers = &ledgers_;
    services.on_eobs_fetched = progress_callback();
    const std::string trigger = "schedule";
    while (!queue->empty() && !stopping_)
    {
        auto patient = std::move(queue->back());
        queue->pop_back();
        auto result = co_await run_sync_job(services, std::move(patient), trigger);
        job_progressed(result);
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
    restore_pause();
    const auto jobs = repo_.pending_mirror(store::utc_now_iso(), 10'000);
    if (jobs.empty())
    {
        co_return;
    }

    // While writes are paused every job waits, marked paused, until the pause ends.
    if (const auto until = salesforce_.writes_paused_until())
    {
        const auto next = store::to_iso(*until);
        for (const auto& job : jobs)
        {
            repo_.mark_mirror_failed(job.job_id, next, salesforce_paused_class, true);
        }
        log::notice(
            "mirror",
            std::to_string(jobs.size()) + " job(s) wait for the Salesforce write pause to end at " + next
        );
        co_return;
    }

    // One job goes by the single-record upsert, more go by Collections calls of up to 200.
    if (jobs.size() == 1)
    {
        co_await mirror_one(jobs.front(), totals);
    }
    else
    {
        for (std::size_t start = 0; start < jobs.size(); start += max_collection_records)
        {
            const auto count = std::min(max_collection_records, jobs.size() - start);
            const std::span<const job_record> chunk(jobs.data() + start, count);
            if (!co_await mirror_collection(chunk, totals))
            {
                break;
            }
        }
    }
    persist_pause();
}

coro::awaitable<bool> sync_engine::mirror_one(const job_record& job, run_totals& totals)
{
    auto upserted = co_await salesforce_.upsert_job(job);
    if (upserted)
    {
        repo_.mark_mirrored(job.job_id, store::utc_now_iso());
        ++totals.mirrored;
        co_return true;
    }
    co_return mirror_failed(std::span<const job_record>(&job, 1), upserted.error(), totals);
}

coro::awaitable<bool> sync_engine::mirror_collection(std::span<const job_record> jobs, run_totals& totals)
{
    auto upserted = co_await salesforce_.upsert_jobs(jobs);
    if (!upserted)
    {
        co_return mirror_failed(jobs, upserted.error(), totals);
    }

    // Per-record results: a rejected record waits for a later pass like a failed call.
    const auto now = store::utc_now_iso();
    for (std::size_t i = 0; i < jobs.size(); ++i)
    {
        const auto& result = (*upserted)[i];
        if (result.success)
        {
            repo_.mark_mirrored(jobs[i].job_id, now);
            ++totals.mirrored;
            continue;
        }
        ++totals.mirror_failures;
        const auto error_class =
            "salesforce.record" + (result.error_code.empty() ? std::string() : "." + result.error_code);
        const auto next = std::chrono::system_clock::now() + mirror_backoff(totals.mirror_failures);
        repo_.mark_mirror_failed(jobs[i].job_id, store::to_iso(next), error_class, false);
        log::warning(
            "mirror", "job " + jobs[i].job_id + ": Salesforce rejected the record with " + error_class
        );
    }
    co_return true;
}

bool sync_engine::mirror_failed(std::span<const job_record> jobs, const failure& error, run_totals& totals)
{
    const auto paused_until = salesforce_.writes_paused_until();
    const auto next = paused_until
                          ? *paused_until
                          : std::chrono::system_clock::now() + mirror_backoff(totals.mirror_failures + 1);
    for (const auto& job : jobs)
    {
        ++totals.mirror_failures;
        repo_.mark_mirror_failed(
            job.job_id, store::to_iso(next), error.error_class, paused_until.has_value()
        );
    }
    log::warning("mirror", std::to_string(jobs.size()) + " job(s) not mirrored: " + error.message);

    // Every further upsert would fail the same way; the rest wait for the next pass.
    const bool org_wide = paused_until || error.error_class.starts_with("salesforce.token") ||
                          error.error_class == "salesforce.unauthorized";
    return !org_wide;
}

std::string format_progress_line(const sync_progress& progress)
{
    return "bbsync: " + std::to_string(progress.patients_done) + "/" +
           std::to_string(progress.patients_total) + " patients, " + std::to_string(progress.eobs) +
           (progress.eobs == 1 ? " EOB, " : " EOBs, ") + std::to_string(progress.errors) +
           (progress.errors == 1 ? " error" : " errors");
}

bool sync_engine::show_progress_on(int fd)
{
    progress_fd_ = fd >= 0 && ::isatty(fd) == 1 ? std::optional<int>(fd) : std::nullopt;
    return progress_fd_.has_value();
}

void sync_engine::start_progress(int patients_total)
{
    progress_ = sync_progress{};
    progress_.patients_total = patients_total;
    last_redraw_.reset();
    draw_progress(false);
}

std::function<void(std::int64_t)> sync_engine::progress_callback()
{
    if (!progress_fd_)
    {
        return {};
    }
    return [this](std::int64_t eobs) {
        progress_.eobs += eobs;
        draw_progress(false);
    };
}

void sync_engine::job_progressed(const job_result& result)
{
    ++progress_.patients_done;
    if (result.status != "Completed")
    {
        ++progress_.errors;
    }
    draw_progress(false);
}

void sync_engine::finish_progress() { draw_progress(true); }

void sync_engine::draw_progress(bool last)
{
    if (!progress_fd_)
    {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!last && last_redraw_ && now - *last_redraw_ < progress_redraw_interval)
    {
        return;
    }
    last_redraw_ = now;
    // Carriage return and "erase line" redraw the same terminal line; the last draw ends it.
    const auto line = "\r\033[K" + format_progress_line(progress_) + (last ? "\n" : "");
    // A terminal that does not take the line loses only the progress display.
    [[maybe_unused]] const auto written = ::write(*progress_fd_, line.data(), line.size());
}

void sync_engine::restore_pause()
{
    const auto stored = repo_.salesforce_pause();
    if (!stored)
    {
        return;
    }
    const auto until = parse_fhir_instant(stored->paused_until);
    if (!until || *until <= std::chrono::system_clock::now())
    {
        repo_.clear_salesforce_pause();
        salesforce_.resume_writes();
        log::info("salesforce", "the Salesforce write pause has ended");
        return;
    }
    if (!salesforce_.writes_paused_until())
    {
        salesforce_.pause_writes(
            std::chrono::time_point_cast<std::chrono::system_clock::duration>(*until), stored->reason
        );
    }
}

void sync_engine::persist_pause()
{
    const auto until = salesforce_.writes_paused_until();
    if (!until)
    {
        return;
    }
    const auto text = store::to_iso(*until);
    const auto stored = repo_.salesforce_pause();
    if (!stored || stored->paused_until != text)
    {
        repo_.set_salesforce_pause({text, salesforce_.pause_reason(), store::utc_now_iso()});
    }
}

}  // namespace bbsync

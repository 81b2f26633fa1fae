#include "daemon/sync/sync_job.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <random>

#include "coro/task_group.hpp"
#include "daemon/api/metrics.hpp"
#include "daemon/common/job_id.hpp"
#include "daemon/common/text.hpp"
#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/payer/payer_client.hpp"
#include "daemon/payer/token_manager.hpp"
#include "daemon/salesforce/salesforce_client.hpp"
#include "daemon/service/config.hpp"
#include "daemon/service/log.hpp"
#include "store/clock.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace bbsync {
namespace {

// Requests that fail with a retryable class are sent this many times in all.
constexpr int max_attempts = 3;

// Walking `next` links stops after this many pages, so that a server that keeps handing out
// new links cannot keep a job running forever.
constexpr int max_linked_pages = 10000;

// Health Cloud accepts at most 30 entries per batch bundle.
constexpr std::size_t max_bundle_entries = 30;

// A Retry-After longer than this is not waited for inside the job: the job ends and the
// patient becomes due again after that time.
constexpr auto max_retry_after_in_job = std::chrono::seconds(60);

std::chrono::milliseconds backoff(int attempt)
{
    static std::minstd_rand jitter_source{std::random_device{}()};
    const auto base = std::chrono::milliseconds(250) * (1 << attempt);
    std::uniform_int_distribution<long> jitter(0, base.count() / 2);
    return base + std::chrono::milliseconds(jitter(jitter_source));
}

// Returns how long to wait before sending a failed request again, or nullopt when it must
// not be retried: not retryable, out of attempts, or a Retry-After beyond what a job waits.
std::optional<std::chrono::milliseconds> retry_delay(const failure& error, int attempt)
{
    if (!error.retryable || attempt + 1 >= max_attempts)
    {
        return std::nullopt;
    }
    auto delay = backoff(attempt);
    if (error.retry_after)
    {
        if (*error.retry_after > max_retry_after_in_job)
        {
            return std::nullopt;
        }
        delay = std::max(delay, std::chrono::duration_cast<std::chrono::milliseconds>(*error.retry_after));
    }
    return delay;
}

coro::awaitable<void> sleep_for(std::chrono::milliseconds delay)
{
    coro::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(delay);
    co_await timer.async_wait();
}

std::string plural(std::int64_t count, std::string_view noun)
{
    return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

const json::array* bundle_entries(const json::value& bundle)
{
    const auto* object = bundle.if_object();
    const auto* entries = object ? object->if_contains("entry") : nullptr;
    return entries && entries->is_array() ? &entries->get_array() : nullptr;
}

std::optional<std::string> bundle_link(const json::value& bundle, std::string_view relation)
{
    const auto* object = bundle.if_object();
    const auto* links = object ? object->if_contains("link") : nullptr;
    if (links == nullptr || !links->is_array())
    {
        return std::nullopt;
    }
    for (const auto& link : links->get_array())
    {
        const auto* fields = link.if_object();
        const auto* rel = fields ? fields->if_contains("relation") : nullptr;
        const auto* url = fields ? fields->if_contains("url") : nullptr;
        if (rel && rel->is_string() && rel->get_string() == relation && url && url->is_string())
        {
            return std::string(url->get_string());
        }
    }
    return std::nullopt;
}

std::optional<std::int64_t> bundle_total(const json::value& bundle)
{
    const auto* object = bundle.if_object();
    const auto* total = object ? object->if_contains("total") : nullptr;
    if (total && total->is_int64() && total->get_int64() >= 0)
    {
        return total->get_int64();
    }
    if (total && total->is_uint64())
    {
        return static_cast<std::int64_t>(total->get_uint64());
    }
    return std::nullopt;
}

// Resource write counts of one resource type.
struct write_counts
{
    std::int64_t created = 0;
    std::int64_t existing = 0;
    std::int64_t failed = 0;
};

class sync_job
{
public:
    sync_job(sync_services services, patient_record patient, job_options options)
        : services_(services), settings_(services.settings), patient_(std::move(patient)),
          trigger_(std::move(options.trigger)),
          job_id_(options.job_id.empty() ? make_job_id() : options.job_id), tag_("job " + job_id_),
          recorded_(!options.job_id.empty()), given_token_(std::move(options.access_token)),
          claim_data_ingestion_(options.claim_data_ingestion.value_or(
              patient_.claim_data_ingestion.value_or(services.settings.claim_data_ingestion)
          ))
    {}

    void start()
    {
        start_time_ = store::utc_now_iso();
        if (!recorded_)
        {
            services_.repo.start_job(job_id_, patient_, trigger_, start_time_, claim_data_ingestion_);
        }
        if (services_.metrics != nullptr)
        {
            services_.metrics->job_started();
        }
        log::info(
            "job",
            tag_ + ": started for patient " + std::to_string(patient_.key) + " (trigger " + trigger_ +
                (patient_.watermark ? ", incremental" : ", full") + ")"
        );
        started_ = std::chrono::steady_clock::now();
    }

    coro::awaitable<void> run()
    {
        // Step 1: an access token, refreshed if needed, unless the caller gave one.
        if (!given_token_)
        {
            auto token = co_await services_.tokens.access_token(patient_.key);
            if (!token)
            {
                fatal_ = token.error();
                co_return;
            }
        }

        // Step 2: the patient and coverage must be readable with this token. Their contents
        // are not kept: the job only needs to know that the grant covers them.
        const auto& fhir = settings_.payer_fhir_path;
        const auto payer_id = percent_encode(patient_.payer_patient_id);
        const auto patient_target = fhir + "/Patient/" + payer_id;
        auto patient = co_await get_json(patient_target);
        if (!patient)
        {
            fatal_ = patient.error();
            co_return;
        }
        const auto coverage_target = fhir + "/Coverage?" + settings_.coverage_query_param + "=" + payer_id +
                                     "&_count=" + std::to_string(settings_.coverage_count);
        auto coverage = co_await get_json(coverage_target);
        if (!coverage)
        {
            fatal_ = coverage.error();
            co_return;
        }
        const auto* coverages = bundle_entries(*coverage);
        coverage_count_ = coverages ? static_cast<std::int64_t>(coverages->size()) : 0;

        // Step 3: the EOBs updated since the watermark, page by page.
        const auto first_target =
            eob_search_target(settings_, patient_.payer_patient_id, patient_.watermark, {});
        auto first = co_await get_json(first_target);
        if (!first)
        {
            fatal_ = first.error();
            co_return;
        }
        const auto total = bundle_total(*first);
        auto next = bundle_link(*first, "next");
        co_await process_page(std::move(*first));

        if (settings_.enable_pagination && total)
        {
            co_await fetch_offset_pages(*total);
        }
        else if (next)
        {
            co_await follow_next_links(std::move(*next));
        }
        if (!fatal_)
        {
            fetch_complete_ = true;
        }
    }

    void fail(failure error)
    {
        if (!fatal_)
        {
            fatal_ = std::move(error);
        }
    }

    // Records the stop as the job's error, in place of the transport errors it caused.
    void mark_cancelled()
    {
        fatal_ = failure{"job.cancelled", "the job was cancelled because bbsync is stopping", true};
    }

    job_result finish()
    {
        job_result result;
        result.job_id = job_id_;
        result.patient_key = patient_.key;
        result.pages_fetched = pages_;
        result.eobs_fetched = static_cast<std::int64_t>(eobs_.size());

        std::int64_t confirmed = 0;
        for (const auto& eob : eobs_)
        {
            confirmed += eob.confirmed ? 1 : 0;
        }
        const auto unconfirmed = result.eobs_fetched - confirmed;
        for (const auto& [type, counts] : writes_)
        {
            result.resources_written += counts.created + counts.existing;
            result.resources_failed += counts.failed;
        }

        // Step 4: the status. Failed when nothing could be done; PartiallyCompleted when some
        // EOBs were written but not all, or the search stopped part-way.
        if (fatal_ && confirmed == 0)
        {
            result.status = "Failed";
        }
        else if (fatal_ || unconfirmed > 0)
        {
            result.status = unconfirmed == result.eobs_fetched && result.eobs_fetched > 0
                                ? "Failed"
                                : "PartiallyCompleted";
        }
        else
        {
            result.status = "Completed";
        }
        if (fatal_)
        {
            result.last_error_class = fatal_->error_class;
        }
        else if (!first_write_error_.empty())
        {
            result.last_error_class = first_write_error_;
        }

        // Step 5: the watermark moves only when the whole result set was seen, because an
        // EOB on a page that was never fetched may be older than every confirmed one.
        if (fetch_complete_)
        {
            result.new_watermark = advance_watermark(patient_.watermark, eobs_);
        }

        const auto now = std::chrono::system_clock::now();
        // The patient's own interval, set by `patient add --interval` (the configured
        // schedule.interval by default).
        const auto interval = std::chrono::seconds(patient_.sync_interval_s);
        // A job that did not get through everything (failed, cut off by a stop or an outage)
        // is retried within 15 minutes rather than after a whole interval.
        const bool unfinished = result.status == "Failed" || fatal_.has_value() || !fetch_complete_;
        auto delay =
            unfinished ? std::min<std::chrono::seconds>(interval, std::chrono::seconds(900)) : interval;
        if (fatal_ && fatal_->retry_after && *fatal_->retry_after > delay)
        {
            delay = *fatal_->retry_after;
        }
        result.next_sync_at = store::to_iso(now + delay);
        result.summary = summary(result, confirmed);
        result.claim_data_status = "New";
        result.claim_data_summary =
            claim_data_ingestion_ ? claim_data_requested_summary : claim_data_off_summary;
        if (claim_data_ingestion_)
        {
            result.summary += "\nClaim data ingestion was requested but is not available yet.";
        }

        services_.repo.finish_job(result, store::to_iso(now));
        if (services_.metrics != nullptr)
        {
            services_.metrics->job_finished();
        }
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started_
        );
        auto line = tag_ + ": " + result.status + " for patient " + std::to_string(patient_.key) + " in " +
                    std::to_string(elapsed.count()) + " ms: " + plural(result.pages_fetched, "page") + ", " +
                    plural(result.eobs_fetched, "EOB") + ", " + std::to_string(result.resources_written) +
                    " resources written, " + std::to_string(result.resources_failed) + " failed";
        if (result.last_error_class)
        {
            line += ", error " + *result.last_error_class;
        }
        if (result.status == "Completed")
        {
            log::info("job", line);
        }
        else
        {
            log::warning("job", line);
        }
        return result;
    }

private:
    // GETs a payer FHIR target, renewing the access token once on 401 and retrying
    // retryable failures with backoff.
    coro::awaitable<outcome<json::value>> get_json(const std::string& target)
    {
        std::string rejected;
        bool renewed = false;
        for (int attempt = 0;; ++attempt)
        {
            std::string token;
            if (given_token_)
            {
                token = *given_token_;
            }
            else
            {
                auto managed = co_await services_.tokens.access_token(patient_.key, rejected);
                if (!managed)
                {
                    co_return managed.error();
                }
                token = std::move(*managed);
            }
            const auto sent_at = std::chrono::steady_clock::now();
            auto body = co_await services_.payer.get(target, token);
            record_request(
                settings_.payer.host, body ? std::string("200") : status_label(body.error()), sent_at
            );
            if (body)
            {
                co_return body;
            }
            // A caller-given token cannot be renewed here: the caller keeps the refresh token.
            if (body.error().error_class == payer_errors::unauthorized && !renewed && !given_token_)
            {
                rejected = token;
                renewed = true;
                continue;
            }
            const auto delay = retry_delay(body.error(), attempt);
            if (!delay)
            {
                co_return body.error();
            }
            log::notice(
                "job",
                tag_ + ": payer request failed with " + body.error().error_class + "; retrying in " +
                    std::to_string(delay->count()) + " ms (attempt " + std::to_string(attempt + 2) + " of " +
                    std::to_string(max_attempts) + ")"
            );
            count_retry();
            co_await sleep_for(*delay);
        }
    }

    // The HTTP status of a failed request for metrics, or "error" when no response arrived.
    static std::string status_label(const failure& error)
    {
        if (error.error_class == payer_errors::unauthorized)
        {
            return "401";
        }
        const auto at = error.error_class.rfind("http_");
        if (at != std::string::npos && error.error_class.size() == at + 8)
        {
            return error.error_class.substr(at + 5);
        }
        return "error";
    }

    void record_request(
        const std::string& host, const std::string& status, std::chrono::steady_clock::time_point sent_at
    )
    {
        if (services_.metrics == nullptr)
        {
            return;
        }
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - sent_at;
        services_.metrics->record_http_request(host, status, elapsed.count());
    }

    void count_retry()
    {
        if (services_.metrics != nullptr)
        {
            services_.metrics->record_retry();
        }
    }

    coro::awaitable<void> fetch_offset_pages(std::int64_t total)
    {
        // Every remaining start index, fetched by up to batchCount workers of this job.
        for (std::int64_t start = settings_.eob_count; start < total; start += settings_.eob_count)
        {
            pending_offsets_.push_back(static_cast<int>(start));
        }
        std::reverse(pending_offsets_.begin(), pending_offsets_.end());
        const auto workers =
            std::min<std::size_t>(static_cast<std::size_t>(settings_.batch_count), pending_offsets_.size());
        coro::task_group group(co_await asio::this_coro::executor);
        for (std::size_t i = 0; i < workers; ++i)
        {
            group.spawn(page_worker());
        }
        co_await group.wait();
    }

    coro::awaitable<void> page_worker()
    {
        while (!pending_offsets_.empty() && !fatal_)
        {
            const int start = pending_offsets_.back();
            pending_offsets_.pop_back();
            const auto target =
                eob_search_target(settings_, patient_.payer_patient_id, patient_.watermark, start);
            auto page = co_await get_json(target);
            if (!page)
            {
                fail(page.error());
                co_return;
            }
            co_await process_page(std::move(*page));
        }
    }

    coro::awaitable<void> follow_next_links(std::string url)
    {
        std::set<std::string> visited;
        std::optional<std::string> next = std::move(url);
        while (next && !fatal_)
        {
            if (!visited.insert(*next).second)
            {
                fail({"payer.next_link_loop", "the payer returned a next link already followed", false});
                co_return;
            }
            if (static_cast<int>(visited.size()) > max_linked_pages)
            {
                fail(
                    {"payer.too_many_pages",
                     "stopped after " + std::to_string(max_linked_pages) + " pages",
                     false}
                );
                co_return;
            }
            auto target = next_link_target(settings_, *next);
            if (!target)
            {
                fail(target.error());
                co_return;
            }
            auto page = co_await get_json(*target);
            if (!page)
            {
                fail(page.error());
                co_return;
            }
            next = bundle_link(*page, "next");
            co_await process_page(std::move(*page));
        }
    }

    // Maps a page and writes it to Health Cloud. The page is released when this returns.
    coro::awaitable<void> process_page(json::value page)
    {
        ++pages_;
        const auto* entries = bundle_entries(page);
        if (entries == nullptr)
        {
            co_return;
        }

        // Map every new EOB of the page; repeated ids (pages shifted by a data load) are skipped.
        mapping::mapping_context context{patient_.sf_patient_id, settings_.claim_coverage_payor};
        std::vector<mapping::eob_mapping> mapped;
        std::vector<std::size_t> state_index;
        for (const auto& entry : *entries)
        {
            const auto* object = entry.if_object();
            const auto* resource = object ? object->if_contains("resource") : nullptr;
            if (resource == nullptr)
            {
                ++skipped_["bundle entry without a resource"];
                continue;
            }
            auto result = mapping::map_eob(*resource, context);
            if (!result)
            {
                ++skipped_["EOB that cannot be mapped (" + result.error().message() + ")"];
                continue;
            }
            if (!seen_ids_.insert(result->eob_id).second)
            {
                continue;
            }
            for (const auto& skip : result->skipped)
            {
                ++skipped_[skip.reason];
            }
            eob_write_state state;
            state.last_updated_text = result->last_updated;
            state.last_updated = parse_fhir_instant(result->last_updated);
            // Confirmed only once Health Cloud has returned a status for every resource of the EOB.
            state.confirmed = false;
            eobs_.push_back(std::move(state));
            state_index.push_back(eobs_.size() - 1);
            mapped.push_back(std::move(*result));
        }
        if (mapped.empty())
        {
            co_return;
        }

        // Send the batches; a resource counts as written once, whichever bundle confirmed it.
        std::vector<std::vector<int>> resource_status(mapped.size());
        for (std::size_t i = 0; i < mapped.size(); ++i)
        {
            resource_status[i].assign(mapped[i].resources.size(), 0);
        }
        for (auto& batch : mapping::build_batches(mapped, max_bundle_entries))
        {
            auto outcome = co_await send_bundle(batch.bundle);
            for (std::size_t i = 0; i < batch.entries.size(); ++i)
            {
                const auto& ref = batch.entries[i];
                const unsigned status = outcome ? (*outcome)[i] : 0;
                auto& current = resource_status[ref.eob_index][ref.resource_index];
                if (status >= 200 && status < 300)
                {
                    current = current == 0 || current >= 300 ? static_cast<int>(status) : current;
                }
                else if (current == 0)
                {
                    current = outcome ? static_cast<int>(status) : 1;
                }
            }
        }

        // Count per resource type and decide each EOB.
        for (std::size_t i = 0; i < mapped.size(); ++i)
        {
            bool confirmed = true;
            for (std::size_t r = 0; r < mapped[i].resources.size(); ++r)
            {
                const int status = resource_status[i][r];
                auto& counts = writes_[mapped[i].resources[r].resource_type];
                if (status == 201)
                {
                    ++counts.created;
                }
                else if (status >= 200 && status < 300)
                {
                    ++counts.existing;
                }
                else if (status != 0)
                {
                    ++counts.failed;
                    confirmed = false;
                    if (status != 1)
                    {
                        ++entry_failures_[status];
                    }
                }
            }
            eobs_[state_index[i]].confirmed = confirmed;
        }
    }

    coro::awaitable<outcome<batch_outcome>> send_bundle(const json::object& bundle)
    {
        for (int attempt = 0;; ++attempt)
        {
            const auto sent_at = std::chrono::steady_clock::now();
            auto outcome = co_await services_.salesforce.send_bundle(bundle);
            record_request(
                settings_.bundle.host, outcome ? std::string("200") : status_label(outcome.error()), sent_at
            );
            const auto delay = outcome ? std::nullopt : retry_delay(outcome.error(), attempt);
            if (!delay)
            {
                if (!outcome)
                {
                    log::warning("job", tag_ + ": batch bundle failed: " + outcome.error().message);
                    if (first_write_error_.empty())
                    {
                        first_write_error_ = outcome.error().error_class;
                    }
                }
                co_return outcome;
            }
            log::notice(
                "job",
                tag_ + ": batch bundle failed with " + outcome.error().error_class + "; retrying in " +
                    std::to_string(delay->count()) + " ms (attempt " + std::to_string(attempt + 2) + " of " +
                    std::to_string(max_attempts) + ")"
            );
            count_retry();
            co_await sleep_for(*delay);
        }
    }

    std::string summary(const job_result& result, std::int64_t confirmed) const
    {
        std::string text = "Fetched " + plural(result.eobs_fetched, "EOB") + " in " +
                           plural(result.pages_fetched, "page") + " and " +
                           plural(coverage_count_, "coverage") + "; " + std::to_string(confirmed) +
                           " EOBs fully written to Health Cloud.";
        for (const auto& [type, counts] : writes_)
        {
            text += "\n" + type + ": " + std::to_string(counts.created) + " created, " +
                    std::to_string(counts.existing) + " already present, " + std::to_string(counts.failed) +
                    " failed";
        }
        for (const auto& [status, count] : entry_failures_)
        {
            text += "\nEntries answered HTTP " + std::to_string(status) + ": " + std::to_string(count);
        }
        for (const auto& [reason, count] : skipped_)
        {
            text += "\nSkipped " + std::to_string(count) + " x " + reason;
        }
        if (fatal_)
        {
            text += "\nError " + fatal_->error_class + ": " + fatal_->message;
        }
        else if (!first_write_error_.empty())
        {
            text += "\nError " + first_write_error_;
        }
        if (!result.new_watermark)
        {
            text += "\nWatermark unchanged.";
        }
        return text;
    }

    sync_services services_;
    const config& settings_;
    patient_record patient_;
    std::string trigger_;
    std::string job_id_;
    std::string tag_;
    std::string start_time_;
    std::chrono::steady_clock::time_point started_;
    bool recorded_ = false;
    std::optional<std::string> given_token_;
    bool claim_data_ingestion_ = false;

    std::optional<failure> fatal_;
    std::string first_write_error_;
    bool fetch_complete_ = false;
    std::int64_t pages_ = 0;
    std::int64_t coverage_count_ = 0;
    std::vector<int> pending_offsets_;
    std::set<std::string> seen_ids_;
    std::vector<eob_write_state> eobs_;
    std::map<std::string, write_counts> writes_;
    std::map<unsigned, std::int64_t> entry_failures_;
    std::map<std::string, std::int64_t> skipped_;
};

}  // namespace

std::optional<std::string> advance_watermark(
    const std::optional<std::string>& current, const std::vector<eob_write_state>& eobs
)
{
    // The earliest unconfirmed EOB bounds the watermark from above (exclusive).
    std::optional<instant> blocked_at;
    for (const auto& eob : eobs)
    {
        if (eob.confirmed)
        {
            continue;
        }
        if (!eob.last_updated)
        {
            return std::nullopt;
        }
        if (!blocked_at || *eob.last_updated < *blocked_at)
        {
            blocked_at = eob.last_updated;
        }
    }

    const eob_write_state* best = nullptr;
    for (const auto& eob : eobs)
    {
        if (!eob.confirmed || !eob.last_updated || (blocked_at && *eob.last_updated >= *blocked_at))
        {
            continue;
        }
        if (best == nullptr || *eob.last_updated > *best->last_updated)
        {
            best = &eob;
        }
    }
    if (best == nullptr)
    {
        return std::nullopt;
    }
    if (current)
    {
        auto current_instant = parse_fhir_instant(*current);
        if (current_instant && *best->last_updated <= *current_instant)
        {
            return std::nullopt;
        }
    }
    return best->last_updated_text;
}

coro::awaitable<job_result> run_sync_job(sync_services services, patient_record patient, std::string trigger)
{
    job_options options;
    options.trigger = std::move(trigger);
    return run_sync_job(services, std::move(patient), std::move(options));
}

coro::awaitable<job_result> run_sync_job(sync_services services, patient_record patient, job_options options)
{
    using namespace asio::experimental::awaitable_operators;
    sync_job job(services, std::move(patient), std::move(options));
    job.start();

    // The whole job races its deadline; the losing side is cancelled.
    coro::steady_timer deadline(co_await asio::this_coro::executor);
    deadline.expires_after(services.settings.job_timeout);
    try
    {
        auto winner = co_await (job.run() || deadline.async_wait());
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none)
        {
            job.mark_cancelled();
        }
        else if (winner.index() == 1)
        {
            job.fail({"job.timeout", "the job did not finish within job.timeout", true});
        }
    }
    catch (const boost::system::system_error& e)
    {
        if (e.code() != asio::error::operation_aborted)
        {
            throw;
        }
        job.mark_cancelled();
    }
    co_return job.finish();
}

}  // namespace bbsync

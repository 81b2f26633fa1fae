#include "daemon/sync/sync_job.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <span>

#include "coro/task_group.hpp"
#include "daemon/api/metrics.hpp"
#include "daemon/common/job_id.hpp"
#include "daemon/common/retry_policy.hpp"
#include "daemon/common/text.hpp"
#include "daemon/datacloud/claim_data_step.hpp"
#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/resource_subset.hpp"
#include "daemon/payer/payer_client.hpp"
#include "daemon/payer/token_manager.hpp"
#include "daemon/salesforce/salesforce_client.hpp"
#include "daemon/service/config.hpp"
#include "daemon/service/log.hpp"
#include "daemon/sync/create_guard.hpp"
#include "daemon/sync/eob_ledger.hpp"
#include "store/clock.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace bbsync {
namespace {

// Walking `next` links stops after this many pages, so that a server that keeps handing out
// new links cannot keep a job running forever.
constexpr int max_linked_pages = 10000;

// Health Cloud accepts at most 30 entries per batch bundle.
constexpr std::size_t max_bundle_entries = 30;

// EOBs with entries that failed only because of a dependency (424) kept per job for one resend
// once the dependency is confirmed. Beyond this the entries stay failed until the next job.
constexpr std::size_t max_deferred_eobs = 200;

// Practitioner searches by NPI per job; beyond this unknown Practitioners are sent as
// conditional creates without a search first.
constexpr int max_practitioner_searches = 500;

constexpr const char* npi_system = "http://hl7.org/fhir/sid/us-npi";

// Payer reads of Practitioners and Organizations named by literal reference, per job. A CARIN
// EOB names a handful; this bounds a job whose EOBs name a new one each.
constexpr int max_referenced_reads = 500;

bool is_success(unsigned status) { return status >= 200 && status < 300; }

// Returns the id in a location such as "Practitioner/abc/_history/1", or "" when the location
// does not name a resource of `type`.
std::string location_id(const std::string& location, std::string_view type)
{
    const std::string prefix = std::string(type) + "/";
    const auto at = location.find(prefix);
    if (at == std::string::npos || (at != 0 && location[at - 1] != '/'))
    {
        return {};
    }
    const auto start = at + prefix.size();
    const auto end = location.find('/', start);
    return location.substr(start, end == std::string::npos ? std::string::npos : end - start);
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
          )),
          ledger_(ledgers())
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
        if (claim_data_ingestion_)
        {
            start_claim_data();
        }
    }

    coro::awaitable<void> run()
    {
        // Step 0: while Salesforce writes are paused nothing fetched could be stored.
        if (auto paused = pause_failure())
        {
            fatal_ = std::move(*paused);
            co_return;
        }

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
        if (claim_data_ && coverages != nullptr)
        {
            co_await claim_data_->send_coverage_page(*coverages);
        }

        // Step 3: the EOBs updated since the watermark, page by page.
        const auto first_target =
            eob_search_target(settings_, patient_.payer_patient_id, patient_.watermark, {});
        auto first_slot = co_await page_slot();
        auto first = co_await get_page(first_target);
        if (!first)
        {
            fatal_ = first.error();
            co_return;
        }
        const auto total = bundle_total(**first);
        auto next = bundle_link(**first, "next");
        co_await process_page(std::move(*first));
        first_slot.release();

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

        // Step 4: entries whose dependency was confirmed by a later page get their one resend.
        co_await resend_deferred(true);
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
        result.eobs_fetched = static_cast<std::int64_t>(ledger_.size());
        const auto confirmed = static_cast<std::int64_t>(ledger_.confirmed_count());
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
            result.new_watermark = ledger_.advance_watermark(patient_.watermark);
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
        finish_claim_data(result);

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
            auto body = co_await services_.payer.get(target, token);
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
                    std::to_string(max_request_attempts) + ")"
            );
            count_retry();
            co_await sleep_for(*delay);
        }
    }

    // Claim-data step: the job's EOBs and Coverage go to Data Cloud page by page, beside the
    // Health Cloud writes. Its outcome sets only claim_data_status and claim_data_summary; the
    // Health Cloud status and the watermark do not depend on it.
    void start_claim_data()
    {
        mapping::mapping_context context{patient_.sf_patient_id, settings_.claim_coverage_payor};
        context.fallback_last_updated = start_time_;
        claim_data_.emplace(
            services_.datacloud, settings_.claim_data_source_api, std::move(context), tag_, services_.metrics
        );
    }

    void finish_claim_data(job_result& result) const
    {
        if (!claim_data_)
        {
            result.claim_data_status = "New";
            result.claim_data_summary = claim_data_off_summary;
            return;
        }
        result.claim_data_status = claim_data_->status(fetch_complete_);
        result.claim_data_summary = claim_data_->summary(fetch_complete_);
    }

    void count_retry()
    {
        if (services_.metrics != nullptr)
        {
            services_.metrics->record_retry();
        }
    }

    // Waits for one of the process-wide page slots, or returns an empty permit when there is no
    // bound.
    coro::awaitable<coro::semaphore_permit> page_slot()
    {
        if (services_.page_slots == nullptr)
        {
            co_return coro::semaphore_permit{};
        }
        co_return co_await services_.page_slots->acquire();
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
            auto slot = co_await page_slot();
            auto page = co_await get_page(target);
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
            auto slot = co_await page_slot();
            auto page = co_await get_page(*target);
            if (!page)
            {
                fail(page.error());
                co_return;
            }
            next = bundle_link(**page, "next");
            co_await process_page(std::move(*page));
        }
    }

    // GETs an EOB search page. The page's tree lives in an arena that only the returned pointer
    // owns: a json::value moved from keeps its memory resource, and with it the whole arena.
    coro::awaitable<outcome<std::unique_ptr<json::value>>> get_page(const std::string& target)
    {
        auto body = co_await get_json(target);
        if (!body)
        {
            co_return body.error();
        }
        co_return std::make_unique<json::value>(std::move(*body));
    }

    // Maps a page and writes it to Health Cloud. The parsed page is freed once it is mapped.
    coro::awaitable<void> process_page(std::unique_ptr<json::value> page)
    {
        ++pages_;
        const auto* entries = bundle_entries(*page);
        if (entries == nullptr)
        {
            co_return;
        }
        if (claim_data_)
        {
            co_await claim_data_->send_eob_page(*entries);
        }

        // Read the Practitioners and Organizations the page names by literal reference (CARIN
        // payers), once per job.
        co_await read_referenced_resources(*entries);

        // Map every new EOB of the page; repeated ids (pages shifted by a data load) are skipped.
        mapping::mapping_context context{patient_.sf_patient_id, settings_.claim_coverage_payor};
        context.referenced_resources = &referenced_;
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
            // Confirmed only once Health Cloud has returned a status for every resource of the EOB.
            const auto index = ledger_.add(result->eob_id, result->last_updated);
            if (!index)
            {
                continue;
            }
            for (const auto& skip : result->skipped)
            {
                ++skipped_[skip.reason];
            }
            state_index.push_back(*index);
            mapped.push_back(std::move(*result));
        }
        // The mapped resources are all the writes need: free the parsed page before they wait on
        // Health Cloud.
        entries = nullptr;
        page.reset();
        if (services_.on_eobs_fetched)
        {
            services_.on_eobs_fetched(static_cast<std::int64_t>(mapped.size()));
        }
        if (mapped.empty())
        {
            co_return;
        }

        // Reference Practitioners that Health Cloud already stores by their id.
        auto substituted = co_await substitute_known_practitioners(mapped);

        // Send the batches; a resource counts as written once, whichever bundle confirmed it.
        std::vector<std::vector<batch_entry_result>> results(mapped.size());
        for (std::size_t i = 0; i < mapped.size(); ++i)
        {
            results[i].assign(mapped[i].resources.size(), batch_entry_result{});
        }
        co_await send_resources(mapped, results);

        // Count per resource type and decide each EOB. EOBs with dependency failures (424)
        // wait for one resend.
        std::set<std::string> counted;
        for (std::size_t i = 0; i < mapped.size(); ++i)
        {
            const bool confirmed = count_resources(mapped[i], results[i], counted);
            ledger_.set_confirmed(state_index[i], confirmed);
            if (!confirmed)
            {
                forget_stale_practitioners(results[i], substituted[i]);
            }
            const bool has_424 = std::any_of(results[i].begin(), results[i].end(), [](const auto& result) {
                return result.status == 424;
            });
            if (has_424 && deferred_.size() < max_deferred_eobs)
            {
                defer(state_index[i], std::move(mapped[i]), std::move(results[i]));
            }
        }
        co_await resend_deferred(false);
    }

    // Reads every literal Practitioner or Organization reference of the page's EOBs (careTeam
    // providers and the EOB provider) that the job has not read yet, at most
    // max_referenced_reads per job. A failed read is recorded and the mapper then skips that
    // reference, as it would without the read.
    coro::awaitable<void> read_referenced_resources(const json::array& entries)
    {
        std::set<std::string> wanted;
        for (const auto& entry : entries)
        {
            const auto* object = entry.if_object();
            const auto* resource = object ? object->if_contains("resource") : nullptr;
            const auto* eob = resource ? resource->if_object() : nullptr;
            if (eob == nullptr)
            {
                continue;
            }
            collect_reference(eob->if_contains("provider"), wanted);
            const auto* care_team = eob->if_contains("careTeam");
            if (care_team != nullptr && care_team->is_array())
            {
                for (const auto& member : care_team->get_array())
                {
                    const auto* fields = member.if_object();
                    collect_reference(fields ? fields->if_contains("provider") : nullptr, wanted);
                }
            }
        }

        for (const auto& reference : wanted)
        {
            // Each reference is read once per job, even when pages arrive in parallel.
            if (fatal_ || !requested_references_.insert(reference).second)
            {
                continue;
            }
            if (referenced_reads_ >= max_referenced_reads)
            {
                ++skipped_["referenced resource not read because the job reached its read limit"];
                continue;
            }
            ++referenced_reads_;
            auto body = co_await get_json(settings_.payer_fhir_path + "/" + reference);
            const auto* object = body ? body->if_object() : nullptr;
            const auto slash = reference.find('/');
            const auto* type = object ? object->if_contains("resourceType") : nullptr;
            if (object == nullptr || type == nullptr || !type->is_string() ||
                type->get_string() != std::string_view(reference).substr(0, slash))
            {
                ++skipped_["referenced resource that could not be read"];
                continue;
            }
            // A copy in the default resource: the parsed body's arena goes with the body.
            referenced_.emplace(reference, json::object(*object, json::storage_ptr()));
        }
    }

    // Adds `value.reference` to `wanted` when it is "Practitioner/<id>" or "Organization/<id>"
    // with a FHIR id.
    static void collect_reference(const json::value* value, std::set<std::string>& wanted)
    {
        const auto* fields = value ? value->if_object() : nullptr;
        const auto* reference = fields ? fields->if_contains("reference") : nullptr;
        if (reference == nullptr || !reference->is_string())
        {
            return;
        }
        const std::string_view text = reference->get_string();
        const auto slash = text.find('/');
        if (slash == std::string_view::npos)
        {
            return;
        }
        const auto type = text.substr(0, slash);
        const auto id = text.substr(slash + 1);
        const bool id_ok = !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
        });
        if ((type == "Practitioner" || type == "Organization") && id_ok)
        {
            wanted.emplace(text);
        }
    }

    // Sends every resource of `eobs` in batch bundles and merges each entry's result into
    // `results`: a success replaces an earlier failure, and the first failure is kept. Up to
    // bundle.maxConcurrentCalls bundles are in flight at once, so a page keeps its slot for a few
    // round trips rather than one per bundle.
    coro::awaitable<void> send_resources(
        std::span<const mapping::eob_mapping> eobs, std::vector<std::vector<batch_entry_result>>& results
    )
    {
        const auto batches = mapping::plan_batches(eobs, max_bundle_entries);
        const auto workers = std::min<std::size_t>(
            static_cast<std::size_t>(std::max(1, settings_.max_concurrent_bundle_calls)), batches.size()
        );
        std::size_t next = 0;
        coro::task_group group(co_await asio::this_coro::executor);
        for (std::size_t i = 0; i < workers; ++i)
        {
            group.spawn(batch_worker(eobs, batches, next, results));
        }
        co_await group.wait();

        // plan_batches sends a resource that several EOBs share (a Practitioner) once per
        // bundle, so the copies that were not sent take the result of the one that was.
        std::map<std::string, batch_entry_result> by_full_url;
        for (std::size_t e = 0; e < eobs.size(); ++e)
        {
            for (std::size_t r = 0; r < eobs[e].resources.size(); ++r)
            {
                const auto& result = results[e][r];
                if (result.status == 0)
                {
                    continue;
                }
                auto [slot, inserted] = by_full_url.try_emplace(eobs[e].resources[r].full_url, result);
                if (!inserted && !is_success(slot->second.status) && is_success(result.status))
                {
                    slot->second = result;
                }
            }
        }
        for (std::size_t e = 0; e < eobs.size(); ++e)
        {
            for (std::size_t r = 0; r < eobs[e].resources.size(); ++r)
            {
                const auto found = by_full_url.find(eobs[e].resources[r].full_url);
                if (results[e][r].status == 0 && found != by_full_url.end())
                {
                    results[e][r] = found->second;
                }
            }
        }
    }

    // Takes the next unsent batch from `batches` and sends it, until none is left. Workers share
    // `next`, the index of the first batch not taken yet.
    coro::awaitable<void> batch_worker(
        std::span<const mapping::eob_mapping> eobs,
        const std::vector<mapping::batch_bundle>& batches,
        std::size_t& next,
        std::vector<std::vector<batch_entry_result>>& results
    )
    {
        while (next < batches.size())
        {
            const auto& batch = batches[next++];
            co_await send_batch(eobs, batch.entries, results);
        }
    }

    // Sends one batch bundle and merges its entry results into `results`.
    coro::awaitable<void> send_batch(
        std::span<const mapping::eob_mapping> eobs,
        std::span<const mapping::bundle_entry_ref> entries,
        std::vector<std::vector<batch_entry_result>>& results
    )
    {
        // Conditional creates of one resource must not overlap, because a server can then create
        // the resource twice.
        std::vector<std::string> urls;
        urls.reserve(entries.size());
        for (const auto& ref : entries)
        {
            urls.push_back(eobs[ref.eob_index].resources[ref.resource_index].full_url);
        }
        auto* creates = co_await guard();
        co_await creates->claim(urls);
        const create_claim claim(*creates, urls);

        // Written straight from the mapped resources: a bundle object would copy each of them.
        auto body = mapping::serialize_batch(eobs, entries);
        auto outcome = co_await send_bundle(std::move(body), entries.size());
        for (std::size_t i = 0; i < entries.size(); ++i)
        {
            const auto& ref = entries[i];
            auto& current = results[ref.eob_index][ref.resource_index];
            if (!outcome)
            {
                // 1 marks "sent, but no per-entry status came back".
                if (current.status == 0)
                {
                    current.status = 1;
                }
                continue;
            }
            const auto& entry_result = (*outcome)[i];
            const auto& resource = eobs[ref.eob_index].resources[ref.resource_index];
            if (is_success(entry_result.status))
            {
                if (!is_success(current.status))
                {
                    current = entry_result;
                }
                learn_practitioner(resource, entry_result);
                if (awaited_urls_.contains(resource.full_url))
                {
                    confirmed_urls_.insert(resource.full_url);
                }
            }
            else if (current.status == 0 || current.status == 1)
            {
                current = entry_result;
            }
        }
    }

    // Returns the process's scratch store, or this job's own when the caller gave none.
    ledger_store& ledgers()
    {
        if (services_.ledgers != nullptr)
        {
            return *services_.ledgers;
        }
        return own_ledgers_.emplace();
    }

    // The job's create guard, made on first use with the job's executor.
    coro::awaitable<create_guard*> guard()
    {
        if (!creates_)
        {
            creates_.emplace(co_await asio::this_coro::executor);
        }
        co_return &*creates_;
    }

    // Adds the EOB's resource results to the per-type counts, once per full_url in `counted`.
    // Returns whether every resource of the EOB was confirmed.
    bool count_resources(
        const mapping::eob_mapping& eob,
        const std::vector<batch_entry_result>& results,
        std::set<std::string>& counted
    )
    {
        bool confirmed = true;
        for (std::size_t r = 0; r < eob.resources.size(); ++r)
        {
            const auto& result = results[r];
            if (!counted.insert(eob.resources[r].full_url).second)
            {
                confirmed = confirmed && is_success(result.status);
                continue;
            }
            auto& counts = writes_[eob.resources[r].resource_type];
            if (result.status == 201)
            {
                ++counts.created;
            }
            else if (is_success(result.status))
            {
                ++counts.existing;
            }
            else if (result.status != 0)
            {
                ++counts.failed;
                confirmed = false;
                if (result.status != 1)
                {
                    ++entry_failures_[{result.status, result.issue_code}];
                }
            }
            else
            {
                // No bundle carried it, so nothing confirms it.
                confirmed = false;
            }
        }
        return confirmed;
    }

    // One EOB whose 424 entries wait for their dependencies.
    struct deferred_eob
    {
        std::size_t state_index = 0;
        mapping::eob_mapping mapping;
        std::vector<batch_entry_result> results;
        // Whether resource i was resent already (each entry is resent at most once).
        std::vector<bool> resent;
    };

    void defer(std::size_t state_index, mapping::eob_mapping mapping, std::vector<batch_entry_result> results)
    {
        auto pointer = std::make_shared<deferred_eob>();
        auto& deferred = *pointer;
        deferred.state_index = state_index;
        deferred.resent.assign(mapping.resources.size(), false);
        for (std::size_t r = 0; r < mapping.resources.size(); ++r)
        {
            if (results[r].status != 424)
            {
                continue;
            }
            for (const std::size_t dependency : mapping::dependencies_of(mapping, r))
            {
                if (!is_success(results[dependency].status))
                {
                    awaited_urls_.insert(mapping.resources[dependency].full_url);
                }
            }
        }
        deferred.mapping = std::move(mapping);
        deferred.results = std::move(results);
        deferred_.push_back(std::move(pointer));
    }

    // Returns whether every dependency of resource `index` is confirmed, in this EOB or by
    // another request of the job.
    bool dependencies_confirmed(const deferred_eob& deferred, std::size_t index) const
    {
        for (const std::size_t dependency : mapping::dependencies_of(deferred.mapping, index))
        {
            if (!is_success(deferred.results[dependency].status) &&
                !confirmed_urls_.contains(deferred.mapping.resources[dependency].full_url))
            {
                return false;
            }
        }
        return true;
    }

    // Resends, once, every 424 entry whose dependencies are now confirmed, together with those
    // dependencies (conditional creates, so a confirmed root is matched, not duplicated). With
    // `last` set, EOBs still waiting are dropped: their entries stay failed.
    coro::awaitable<void> resend_deferred(bool last)
    {
        std::vector<mapping::eob_mapping> subsets;
        std::vector<std::vector<std::size_t>> original_indices;
        // Shared owners, because other pages of the job add and remove entries meanwhile.
        std::vector<std::shared_ptr<deferred_eob>> owners;
        for (const auto& pointer : deferred_)
        {
            if (fatal_)
            {
                break;
            }
            auto& deferred = *pointer;
            std::vector<std::size_t> wanted;
            for (std::size_t r = 0; r < deferred.mapping.resources.size(); ++r)
            {
                if (deferred.results[r].status == 424 && !deferred.resent[r] &&
                    dependencies_confirmed(deferred, r))
                {
                    wanted.push_back(r);
                    deferred.resent[r] = true;
                }
            }
            if (wanted.empty())
            {
                continue;
            }
            std::vector<std::size_t> indices;
            subsets.push_back(mapping::subset_with_dependencies(deferred.mapping, wanted, indices));
            original_indices.push_back(std::move(indices));
            owners.push_back(pointer);
            resent_ += static_cast<std::int64_t>(wanted.size());
        }

        if (!subsets.empty())
        {
            std::vector<std::vector<batch_entry_result>> results(subsets.size());
            for (std::size_t i = 0; i < subsets.size(); ++i)
            {
                results[i].assign(subsets[i].resources.size(), batch_entry_result{});
            }
            co_await send_resources(subsets, results);
            for (std::size_t i = 0; i < subsets.size(); ++i)
            {
                apply_resend(*owners[i], subsets[i], original_indices[i], results[i]);
            }
        }

        // EOBs with nothing left to resend leave the list.
        std::erase_if(deferred_, [last](const std::shared_ptr<deferred_eob>& pointer) {
            if (last)
            {
                return true;
            }
            const auto& deferred = *pointer;
            for (std::size_t r = 0; r < deferred.results.size(); ++r)
            {
                if (deferred.results[r].status == 424 && !deferred.resent[r])
                {
                    return false;
                }
            }
            return true;
        });
        if (deferred_.empty())
        {
            awaited_urls_.clear();
            confirmed_urls_.clear();
        }
    }

    // Moves the counts of resent entries that succeeded from failed to written, and confirms
    // the EOB when nothing of it is left failed.
    void apply_resend(
        deferred_eob& deferred,
        const mapping::eob_mapping& subset,
        const std::vector<std::size_t>& original_indices,
        const std::vector<batch_entry_result>& results
    )
    {
        for (std::size_t k = 0; k < subset.resources.size(); ++k)
        {
            const std::size_t r = original_indices[k];
            auto& current = deferred.results[r];
            if (is_success(current.status) || !is_success(results[k].status))
            {
                continue;
            }
            auto& counts = writes_[subset.resources[k].resource_type];
            --counts.failed;
            ++(results[k].status == 201 ? counts.created : counts.existing);
            if (current.status != 1 && current.status != 0)
            {
                const auto key = std::make_pair(current.status, current.issue_code);
                if (--entry_failures_[key] <= 0)
                {
                    entry_failures_.erase(key);
                }
            }
            current = results[k];
            ++resent_confirmed_;
        }
        const bool confirmed =
            std::all_of(deferred.results.begin(), deferred.results.end(), [](const auto& result) {
                return is_success(result.status);
            });
        ledger_.set_confirmed(deferred.state_index, confirmed);
    }

    // Replaces the page's Practitioners whose Health Cloud id is known (cache or search) by
    // literal references. Returns, per EOB, the NPIs that were replaced.
    coro::awaitable<std::vector<std::vector<std::string>>> substitute_known_practitioners(
        std::vector<mapping::eob_mapping>& mapped
    )
    {
        std::vector<std::vector<std::string>> substituted(mapped.size());
        std::map<std::string, std::string> reference_by_full_url;
        std::map<std::string, std::string> npi_by_full_url;
        for (const auto& eob : mapped)
        {
            for (const auto& resource : eob.resources)
            {
                if (resource.resource_type != "Practitioner" || resource.identifier_system != npi_system ||
                    npi_by_full_url.contains(resource.full_url))
                {
                    continue;
                }
                npi_by_full_url[resource.full_url] = resource.identifier_value;
                if (auto id = co_await practitioner_id(resource.identifier_value))
                {
                    reference_by_full_url[resource.full_url] = "Practitioner/" + *id;
                }
            }
        }
        if (reference_by_full_url.empty())
        {
            co_return substituted;
        }
        for (std::size_t i = 0; i < mapped.size(); ++i)
        {
            for (const auto& resource : mapped[i].resources)
            {
                if (reference_by_full_url.contains(resource.full_url))
                {
                    substituted[i].push_back(npi_by_full_url[resource.full_url]);
                }
            }
            practitioners_referenced_ += static_cast<std::int64_t>(
                mapping::substitute_known_resources(mapped[i], reference_by_full_url)
            );
        }
        co_return substituted;
    }

    // Returns the Health Cloud id of the Practitioner with this NPI from the job's memory, the
    // database or a search, or nullopt when it is unknown.
    coro::awaitable<std::optional<std::string>> practitioner_id(const std::string& npi)
    {
        if (auto known = known_practitioners_.find(npi); known != known_practitioners_.end())
        {
            co_return known->second;
        }
        if (auto stored = services_.repo.practitioner_id(npi))
        {
            known_practitioners_[npi] = *stored;
            co_return stored;
        }
        if (searched_npis_.contains(npi) || practitioner_searches_ >= max_practitioner_searches)
        {
            co_return std::nullopt;
        }
        searched_npis_.insert(npi);
        ++practitioner_searches_;
        const std::string system = npi_system;
        auto found = co_await services_.salesforce.find_practitioner(system, npi);
        if (!found)
        {
            // The conditional create still prevents a duplicate, so the job goes on without.
            log::notice("job", tag_ + ": Practitioner search failed with " + found.error().error_class);
            co_return std::nullopt;
        }
        if (*found)
        {
            known_practitioners_[npi] = **found;
            services_.repo.remember_practitioner(npi, **found, store::utc_now_iso());
        }
        co_return *found;
    }

    // Stores the id of a Practitioner that a bundle created or matched.
    void learn_practitioner(const mapping::mapped_resource& resource, const batch_entry_result& answer)
    {
        if (resource.resource_type != "Practitioner" || resource.identifier_system != npi_system)
        {
            return;
        }
        const auto id = location_id(answer.location, "Practitioner");
        if (id.empty() || known_practitioners_.contains(resource.identifier_value))
        {
            return;
        }
        known_practitioners_[resource.identifier_value] = id;
        services_.repo.remember_practitioner(resource.identifier_value, id, store::utc_now_iso());
    }

    // Drops stored Practitioner ids of an EOB whose entries were rejected (not for a
    // dependency): Health Cloud may no longer store them, and the next job then creates or
    // finds them again.
    void forget_stale_practitioners(
        const std::vector<batch_entry_result>& results, const std::vector<std::string>& npis
    )
    {
        const bool rejected = std::any_of(results.begin(), results.end(), [](const auto& result) {
            return result.status >= 400 && result.status < 500 && result.status != 424;
        });
        if (!rejected)
        {
            return;
        }
        for (const auto& npi : npis)
        {
            known_practitioners_.erase(npi);
            services_.repo.forget_practitioner(npi);
        }
    }

    // The failure that stops a job while Salesforce writes are paused, or nullopt.
    std::optional<failure> pause_failure() const
    {
        const auto until = services_.salesforce.writes_paused_until();
        if (!until)
        {
            return std::nullopt;
        }
        failure paused{
            salesforce_paused_class,
            "Salesforce writes are paused until " + store::to_iso(*until) + " (" +
                services_.salesforce.pause_reason() + "); the patient is due again after that",
            true};
        paused.retry_after =
            std::chrono::ceil<std::chrono::seconds>(*until - std::chrono::system_clock::now());
        return paused;
    }

    coro::awaitable<outcome<batch_entries>> send_bundle(std::string body, std::size_t entry_count)
    {
        for (int attempt = 0;; ++attempt)
        {
            auto outcome = co_await services_.salesforce.send_bundle_text(body, entry_count);
            const auto delay = outcome ? std::nullopt : retry_delay(outcome.error(), attempt);
            if (!delay)
            {
                if (!outcome)
                {
                    // A request limit stops the job, because Salesforce would reject every further bundle.
                    if (auto paused = pause_failure())
                    {
                        fail(std::move(*paused));
                    }
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
                    std::to_string(max_request_attempts) + ")"
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
        for (const auto& [key, count] : entry_failures_)
        {
            const auto& [status, issue_code] = key;
            text += "\nEntries answered HTTP " + std::to_string(status) +
                    (issue_code.empty() ? std::string() : " (" + issue_code + ")") + ": " +
                    std::to_string(count);
        }
        if (resent_ > 0)
        {
            text += "\nResent " + std::to_string(resent_) + (resent_ == 1 ? " entry" : " entries") +
                    " after their dependency was confirmed; " + std::to_string(resent_confirmed_) +
                    " confirmed.";
        }
        if (practitioners_referenced_ > 0)
        {
            text += "\nReferenced " + plural(practitioners_referenced_, "Practitioner") +
                    " already in Health Cloud by id.";
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
    std::optional<claim_data_step> claim_data_;

    std::optional<failure> fatal_;
    std::string first_write_error_;
    bool fetch_complete_ = false;
    std::int64_t pages_ = 0;
    std::int64_t coverage_count_ = 0;
    std::vector<int> pending_offsets_;
    // Every EOB fetched, for repeats and the watermark, in the process's scratch database or, when
    // the caller gave none, in one of this job's own.
    std::optional<ledger_store> own_ledgers_;
    eob_ledger ledger_;
    // Keeps this job's bundles that create the same resource (an EOB's repeated root, a shared
    // Practitioner) from being in flight together.
    // NOTE: jobs of different patients can still create one Practitioner at the same time. A
    // guard across jobs held back every first page that named a shared Practitioner, 16 % of
    // throughput in the 100 ms latency benchmark, so between jobs only the NPI search checks.
    std::optional<create_guard> creates_;
    std::map<std::string, write_counts> writes_;
    std::map<std::pair<unsigned, std::string>, std::int64_t> entry_failures_;
    std::vector<std::shared_ptr<deferred_eob>> deferred_;
    // Dependencies that deferred entries wait for, and those a later request confirmed.
    std::set<std::string> awaited_urls_;
    std::set<std::string> confirmed_urls_;
    std::int64_t resent_ = 0;
    std::int64_t resent_confirmed_ = 0;
    // Practitioner ids by NPI known in this job, and NPIs searched without a match.
    std::map<std::string, std::string> known_practitioners_;
    std::set<std::string> searched_npis_;
    int practitioner_searches_ = 0;
    std::int64_t practitioners_referenced_ = 0;
    // Payer resources named by literal reference, read once per job, and every reference
    // requested so far.
    std::map<std::string, json::object, std::less<>> referenced_;
    std::set<std::string> requested_references_;
    int referenced_reads_ = 0;
    std::map<std::string, std::int64_t> skipped_;
};

}  // namespace

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

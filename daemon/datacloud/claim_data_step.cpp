#include "daemon/datacloud/claim_data_step.hpp"

#include <boost/asio/this_coro.hpp>

#include <algorithm>

#include "daemon/api/metrics.hpp"
#include "daemon/common/retry_policy.hpp"
#include "daemon/datacloud/datacloud_client.hpp"
#include "daemon/datacloud/ingest_requests.hpp"
#include "daemon/service/log.hpp"

namespace json = boost::json;

namespace bbsync {
namespace {

// Whether a failure makes every later request of the job pointless: no token can be had, the
// tenant rejects fresh tokens, or the service stayed unavailable through every retry.
bool stops_step(const failure& error)
{
    const auto& name = error.error_class;
    return error.retryable || name == datacloud_errors::not_configured ||
           name == datacloud_errors::unauthorized || name.starts_with("datacloud.token_") ||
           name.starts_with("datacloud.exchange_");
}

std::string plural(std::int64_t count, std::string_view noun)
{
    return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

const json::object* entry_resource(const json::value& entry)
{
    const auto* object = entry.if_object();
    const auto* resource = object ? object->if_contains("resource") : nullptr;
    return resource ? resource->if_object() : nullptr;
}

}  // namespace

claim_data_step::claim_data_step(
    datacloud_client* client,
    std::string source_api,
    mapping::mapping_context context,
    std::string log_tag,
    api::metrics* metrics
)
    : client_(client), source_api_(std::move(source_api)), context_(std::move(context)),
      tag_(std::move(log_tag)), metrics_(metrics)
{
    if (client_ == nullptr)
    {
        stopped_ = failure{
            datacloud_errors::not_configured, "no Data Cloud client is set up in this process", false};
        first_error_ = stopped_;
    }
    else if (!client_->login_configured())
    {
        stopped_ = failure{
            datacloud_errors::not_configured,
            "claim data ingestion is on for this job but claimData.cdpConfig.* is not set: set the Data "
            "Cloud "
            "login",
            false};
        first_error_ = stopped_;
    }
}

coro::awaitable<void> claim_data_step::send_eob_page(const json::array& entries)
{
    mapping::claim_records page;
    for (const auto& entry : entries)
    {
        const auto* resource = entry_resource(entry);
        if (resource == nullptr)
        {
            ++skipped_["bundle entry without a resource"];
            continue;
        }
        auto records = mapping::map_claim_records(*resource, context_);
        if (!records)
        {
            ++skipped_["EOB that cannot be mapped (" + records.error().message() + ")"];
            continue;
        }
        const auto& headers = records->by_object[std::string(mapping::claim_header_object)];
        const auto* id = headers.empty() ? nullptr : headers.front().if_contains("id");
        if (id != nullptr && id->is_string() && !seen_ids_.insert(std::string(id->get_string())).second)
        {
            continue;
        }
        for (auto& [object_name, list] : records->by_object)
        {
            auto& target = page.by_object[object_name];
            std::move(list.begin(), list.end(), std::back_inserter(target));
        }
    }
    co_await send_records(std::move(page));
}

coro::awaitable<void> claim_data_step::send_coverage_page(const json::array& entries)
{
    mapping::claim_records page;
    for (const auto& entry : entries)
    {
        const auto* resource = entry_resource(entry);
        if (resource == nullptr)
        {
            ++skipped_["bundle entry without a resource"];
            continue;
        }
        auto records = mapping::map_coverage_records(*resource, context_);
        if (!records)
        {
            ++skipped_["Coverage that cannot be mapped (" + records.error().message() + ")"];
            continue;
        }
        for (auto& [object_name, list] : records->by_object)
        {
            auto& target = page.by_object[object_name];
            std::move(list.begin(), list.end(), std::back_inserter(target));
        }
    }
    co_await send_records(std::move(page));
}

void claim_data_step::reject(const std::string& object_name, std::int64_t count, const std::string& reason)
{
    if (count == 0)
    {
        return;
    }
    counts_[object_name].rejected += count;
    rejections_[reason] += count;
}

coro::awaitable<void> claim_data_step::send_records(mapping::claim_records records)
{
    for (const auto& [object_name, list] : records.by_object)
    {
        if (list.empty())
        {
            continue;
        }
        auto split = split_ingest_requests(list);
        reject(
            object_name,
            static_cast<std::int64_t>(split.oversized),
            "record of " + std::to_string(max_ingest_body_bytes) + " bytes or more once serialized"
        );
        for (const auto& request : split.requests)
        {
            const auto count = static_cast<std::int64_t>(request.record_count);
            if (stopped_)
            {
                reject(object_name, count, "not sent after " + stopped_->error_class);
                continue;
            }
            auto sent = co_await send_with_retry(object_name, request.body);
            ++requests_sent_;
            if (sent)
            {
                counts_[object_name].accepted += count;
                accepted_total_ += count;
                continue;
            }
            reject(object_name, count, "request failed with " + sent.error().error_class);
            if (!first_error_)
            {
                first_error_ = sent.error();
            }
            if (stops_step(sent.error()))
            {
                log::warning(
                    "job",
                    tag_ + ": claim data ingestion stopped: " + sent.error().error_class + ": " +
                        sent.error().message
                );
                stopped_ = sent.error();
            }
            else
            {
                log::warning("job", tag_ + ": claim data request failed: " + sent.error().message);
            }
        }
    }
}

coro::awaitable<outcome<void>> claim_data_step::send_with_retry(
    const std::string& object_name, const std::string& body
)
{
    for (int attempt = 0;; ++attempt)
    {
        auto sent = co_await client_->ingest(object_name, body);
        if (sent)
        {
            co_return sent;
        }
        const auto delay = retry_delay(sent.error(), attempt);
        if (!delay)
        {
            co_return sent;
        }
        log::notice(
            "job",
            tag_ + ": Data Cloud request failed with " + sent.error().error_class + "; retrying in " +
                std::to_string(delay->count()) + " ms (attempt " + std::to_string(attempt + 2) + " of " +
                std::to_string(max_request_attempts) + ")"
        );
        if (metrics_ != nullptr)
        {
            metrics_->record_retry();
        }
        co_await sleep_for(*delay);
    }
}

std::string claim_data_step::status(bool fetch_complete) const
{
    std::int64_t rejected = 0;
    for (const auto& [object_name, counts] : counts_)
    {
        rejected += counts.rejected;
    }
    const bool missed = rejected > 0 || !fetch_complete || stopped_.has_value();
    if (!missed)
    {
        return "Completed";
    }
    return accepted_total_ == 0 ? "Failed" : "PartiallyCompleted";
}

std::string claim_data_step::summary(bool fetch_complete) const
{
    std::string text = "Sent " + plural(accepted_total_, "claim record") + " to Data Cloud source " +
                       source_api_ + " in " + plural(requests_sent_, "request") + ".";
    for (const auto& [object_name, counts] : counts_)
    {
        text += "\n" + object_name + ": " + std::to_string(counts.accepted) + " accepted, " +
                std::to_string(counts.rejected) + " rejected";
    }
    for (const auto& [reason, count] : rejections_)
    {
        text += "\nRejected " + std::to_string(count) + " x " + reason;
    }
    for (const auto& [reason, count] : skipped_)
    {
        text += "\nSkipped " + std::to_string(count) + " x " + reason;
    }
    if (first_error_)
    {
        text += "\nError " + first_error_->error_class + ": " + first_error_->message;
    }
    if (!fetch_complete)
    {
        text += "\nThe job stopped before every EOB was fetched, so claim data is incomplete.";
    }
    return text;
}

}  // namespace bbsync

#ifndef BBSYNC_DAEMON_DATACLOUD_CLAIM_DATA_STEP_HPP
#define BBSYNC_DAEMON_DATACLOUD_CLAIM_DATA_STEP_HPP

#include <boost/json/array.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "coro/tokens.hpp"
#include "daemon/common/failure.hpp"
#include "daemon/mapping/claim_records.hpp"

namespace bbsync {

class datacloud_client;

namespace api {
class metrics;
}

// The claim-data part of one sync job. It maps the job's EOBs and Coverage resources to the flat
// records of the BlueButtonClaim source and sends them to Data Cloud page by page, so memory
// contains the records of the pages in flight rather than the patient's history. It counts
// records per object and rejections by reason, and derives the job's ClaimDataStatus__c and
// ClaimDataSummary__c from them. Records never reach a log or the summary.
// NOTE: the watermark follows Health Cloud only. A later incremental job therefore does not resend
// claim records that were rejected here, but `bbsync patient resync` makes the next job send all.
class claim_data_step
{
public:
    // `client` may be null when no Data Cloud client exists. Then, or when the client has no login,
    // the step sends nothing and records datacloud_errors::not_configured. `context.fallback_last_updated`
    // should be the job's start time. `log_tag` prefixes log lines, such as "job <id>".
    claim_data_step(
        datacloud_client* client,
        std::string source_api,
        mapping::mapping_context context,
        std::string log_tag,
        api::metrics* metrics = nullptr
    );

    // Maps the ExplanationOfBenefit resources of one search page (Bundle.entry) and sends their
    // records. An EOB id already sent by this job is skipped. Failed requests are retried on 429
    // and 5xx with backoff and Retry-After; what still fails is counted. Throws only on
    // cancellation and bugs.
    coro::awaitable<void> send_eob_page(const boost::json::array& entries);

    // Maps the Coverage resources of a Coverage search (Bundle.entry) and sends their records,
    // like send_eob_page.
    coro::awaitable<void> send_coverage_page(const boost::json::array& entries);

    // Returns the claim data status. It is Completed when every record was accepted and
    // `fetch_complete` is true, meaning every EOB page was fetched. It is Failed when no record was accepted
    // although something was rejected, not fetched or not sent, and PartiallyCompleted otherwise.
    std::string status(bool fetch_complete) const;

    // Returns the readable summary: records accepted per object, rejections by reason, skipped
    // resources, the first error and whether the fetch was incomplete. No claim content.
    std::string summary(bool fetch_complete) const;

    std::int64_t records_accepted() const noexcept { return accepted_total_; }

private:
    struct object_counts
    {
        std::int64_t accepted = 0;
        std::int64_t rejected = 0;
    };

    coro::awaitable<void> send_records(mapping::claim_records records);
    coro::awaitable<outcome<void>> send_with_retry(const std::string& object_name, const std::string& body);
    void reject(const std::string& object_name, std::int64_t count, const std::string& reason);

    datacloud_client* client_;
    std::string source_api_;
    mapping::mapping_context context_;
    std::string tag_;
    api::metrics* metrics_;

    std::set<std::string> seen_ids_;
    std::map<std::string, object_counts> counts_;
    std::map<std::string, std::int64_t> rejections_;
    std::map<std::string, std::int64_t> skipped_;
    std::int64_t accepted_total_ = 0;
    std::int64_t requests_sent_ = 0;
    // The failure after which no further request is sent (no token, bad credentials, a service
    // that stayed unavailable through every retry).
    std::optional<failure> stopped_;
    // The first failure of the job's claim data, shown in the summary.
    std::optional<failure> first_error_;
};

}  // namespace bbsync

#endif

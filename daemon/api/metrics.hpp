#ifndef BBSYNC_DAEMON_API_METRICS_HPP
#define BBSYNC_DAEMON_API_METRICS_HPP

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace bbsync::coro {
struct request_outcome;
}

namespace bbsync::api {

// Values read from the database and the process when /metrics is scraped.
struct metrics_gauges
{
    // Jobs in sync_jobs by status.
    std::map<std::string, std::int64_t> jobs_by_status;
    std::uint64_t token_refreshes = 0;
    // Seconds between now and the oldest watermark of an active patient; none without one.
    std::optional<double> watermark_lag_seconds;
    std::uint64_t wal_size_bytes = 0;
};

// Names the remote operation of a request from its target, for the `endpoint` label:
// payer_token, payer_fhir, salesforce_token, salesforce_sobject, salesforce_collections,
// healthcare_bundle, healthcare_practitioner, datacloud_token, datacloud_ingest, or other.
// The rules match the default paths and the paths bbsync builds itself (see metrics.cpp), so a
// customised payer token or bundle path may come out as payer_fhir or other.
std::string_view classify_endpoint(std::string_view target);

// Counters of the daemon's own work, updated by the sync engine and its jobs. Single-threaded:
// use it only from the thread that runs the event loop.
class metrics
{
public:
    // Upper bounds of the request duration histogram buckets, in seconds.
    static constexpr std::array<double, 10> duration_buckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    // Counts one finished outbound request to `host` for `endpoint` (see classify_endpoint)
    // with its HTTP status, or with status "error" when no response arrived. Never throws
    // except std::bad_alloc.
    void record_http_request(
        const std::string& host, std::string_view endpoint, const std::string& status, double seconds
    );

    // Counts one request that the HTTPS client completed, labelled with its origin, endpoint
    // and status, and a replay on a new connection as a retry. Meant as the client's
    // request_observer. Never throws except std::bad_alloc.
    void record_outcome(const coro::request_outcome& outcome);

    // Counts one request sent again after a retryable failure.
    void record_retry() noexcept { ++retries_; }

    // Counts a job that started, and one that finished.
    void job_started() noexcept { ++jobs_in_flight_; }
    void job_finished() noexcept { --jobs_in_flight_; }

    std::int64_t jobs_in_flight() const noexcept { return jobs_in_flight_; }

    // Renders every metric in the Prometheus text exposition format 0.0.4, each family with
    // HELP and TYPE lines. Never throws except std::bad_alloc.
    std::string render(const metrics_gauges& gauges) const;

private:
    struct histogram
    {
        std::array<std::uint64_t, duration_buckets.size()> buckets{};
        std::uint64_t count = 0;
        double sum = 0;
    };

    // Keyed by (host, endpoint, status) and (host, endpoint).
    std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> requests_;
    std::map<std::pair<std::string, std::string>, histogram> durations_;
    std::uint64_t retries_ = 0;
    std::int64_t jobs_in_flight_ = 0;
};

}  // namespace bbsync::api

#endif

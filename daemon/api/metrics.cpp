#include "daemon/api/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <vector>

#include "coro/https_client.hpp"

namespace bbsync::api {
namespace {

// Escapes a label value: backslash, double quote and line feed.
std::string label_value(const std::string& text)
{
    std::string escaped;
    for (char c : text)
    {
        if (c == '\\' || c == '"')
        {
            escaped.push_back('\\');
            escaped.push_back(c);
        }
        else if (c == '\n')
        {
            escaped += "\\n";
        }
        else
        {
            escaped.push_back(c);
        }
    }
    return escaped;
}

std::string number(double value)
{
    if (std::isinf(value))
    {
        return value > 0 ? "+Inf" : "-Inf";
    }
    if (std::isnan(value))
    {
        return "NaN";
    }
    // The shortest text that reads back as the same double, so a bucket bound of 0.05 is
    // written "0.05" and not "0.050000000000000003".
    char text[64];
    const auto written = std::to_chars(text, text + sizeof text, value);
    return std::string(text, written.ptr);
}

// Splits the path of an origin-form target into segments, without the query.
std::vector<std::string_view> path_segments(std::string_view target)
{
    target = target.substr(0, target.find_first_of("?#"));
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start <= target.size())
    {
        const auto end = std::min(target.find('/', start), target.size());
        if (end > start)
        {
            segments.push_back(target.substr(start, end - start));
        }
        start = end + 1;
    }
    return segments;
}

bool contains_segment(const std::vector<std::string_view>& segments, std::string_view name)
{
    return std::find(segments.begin(), segments.end(), name) != segments.end();
}

void family(std::string& out, const char* name, const char* type, const char* help)
{
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " " + type + "\n";
}

}  // namespace

std::string_view classify_endpoint(std::string_view target)
{
    const auto path = target.substr(0, target.find_first_of("?#"));
    const auto segments = path_segments(path);
    const auto last = segments.empty() ? std::string_view() : segments.back();

    // Salesforce and Data Cloud paths are fixed by their APIs; the payer token path
    // (default /v2/o/token/) and the bundle path (default .../Bundle) are configurable.
    if (path.find("/services/oauth2/token") != std::string_view::npos)
    {
        return "salesforce_token";
    }
    if (path.find("/services/a360/token") != std::string_view::npos)
    {
        return "datacloud_token";
    }
    if (path.starts_with("/api/v1/ingest/"))
    {
        return "datacloud_ingest";
    }
    if (contains_segment(segments, "services") && contains_segment(segments, "composite"))
    {
        return "salesforce_collections";
    }
    if (contains_segment(segments, "services") && contains_segment(segments, "sobjects"))
    {
        return "salesforce_sobject";
    }
    if (path.find("/o/token") != std::string_view::npos)
    {
        return "payer_token";
    }
    if (last == "Practitioner")
    {
        return "healthcare_practitioner";
    }
    if (last == "Bundle")
    {
        return "healthcare_bundle";
    }
    for (const auto resource : {"Patient", "Coverage", "ExplanationOfBenefit"})
    {
        if (contains_segment(segments, resource))
        {
            return "payer_fhir";
        }
    }
    if (path.find("/fhir") != std::string_view::npos)
    {
        return "payer_fhir";
    }
    return "other";
}

void metrics::record_outcome(const coro::request_outcome& outcome)
{
    const auto status = outcome.status == 0 ? std::string("error") : std::to_string(outcome.status);
    const std::chrono::duration<double> seconds = outcome.elapsed;
    record_http_request(
        outcome.origin.authority(), classify_endpoint(outcome.request.target), status, seconds.count()
    );
    if (outcome.replayed)
    {
        ++retries_;
    }
}

void metrics::record_http_request(
    const std::string& host, std::string_view endpoint, const std::string& status, double seconds
)
{
    ++requests_[{host, std::string(endpoint), status}];
    auto& series = durations_[{host, std::string(endpoint)}];
    for (std::size_t i = 0; i < duration_buckets.size(); ++i)
    {
        if (seconds <= duration_buckets[i])
        {
            ++series.buckets[i];
        }
    }
    ++series.count;
    series.sum += seconds;
}

std::string metrics::render(const metrics_gauges& gauges) const
{
    std::string out;

    family(out, "bbsync_jobs_total", "counter", "Sync jobs recorded in the database, by status.");
    for (const char* status : {"New", "InProgress", "Completed", "PartiallyCompleted", "Failed"})
    {
        const auto found = gauges.jobs_by_status.find(status);
        const auto count = found == gauges.jobs_by_status.end() ? 0 : found->second;
        out += std::string("bbsync_jobs_total{status=\"") + status + "\"} " + std::to_string(count) + "\n";
    }

    family(out, "bbsync_jobs_in_flight", "gauge", "Sync jobs running in this process.");
    out += "bbsync_jobs_in_flight " + std::to_string(jobs_in_flight_) + "\n";

    family(
        out,
        "bbsync_http_requests_total",
        "counter",
        "Outbound requests, by host, endpoint and HTTP status (error: no response)."
    );
    for (const auto& [key, count] : requests_)
    {
        const auto& [host, endpoint, status] = key;
        out += "bbsync_http_requests_total{host=\"" + label_value(host) + "\",endpoint=\"" +
               label_value(endpoint) + "\",status=\"" + label_value(status) + "\"} " + std::to_string(count) +
               "\n";
    }

    family(
        out, "bbsync_http_retries_total", "counter", "Outbound requests sent again after a retryable failure."
    );
    out += "bbsync_http_retries_total " + std::to_string(retries_) + "\n";

    family(
        out,
        "bbsync_http_request_duration_seconds",
        "histogram",
        "Duration of outbound requests by host and endpoint, each retry counted separately."
    );
    for (const auto& [key, series] : durations_)
    {
        const auto host_label =
            "host=\"" + label_value(key.first) + "\",endpoint=\"" + label_value(key.second) + "\"";
        for (std::size_t i = 0; i < duration_buckets.size(); ++i)
        {
            out += "bbsync_http_request_duration_seconds_bucket{" + host_label + ",le=\"" +
                   number(duration_buckets[i]) + "\"} " + std::to_string(series.buckets[i]) + "\n";
        }
        out += "bbsync_http_request_duration_seconds_bucket{" + host_label + ",le=\"+Inf\"} " +
               std::to_string(series.count) + "\n";
        out += "bbsync_http_request_duration_seconds_sum{" + host_label + "} " + number(series.sum) + "\n";
        out += "bbsync_http_request_duration_seconds_count{" + host_label + "} " +
               std::to_string(series.count) + "\n";
    }

    family(out, "bbsync_token_refreshes_total", "counter", "Payer refresh token exchanges sent.");
    out += "bbsync_token_refreshes_total " + std::to_string(gauges.token_refreshes) + "\n";

    family(
        out,
        "bbsync_watermark_lag_seconds",
        "gauge",
        "Seconds since the oldest watermark of an active patient (0 when no patient has one)."
    );
    out += "bbsync_watermark_lag_seconds " + number(gauges.watermark_lag_seconds.value_or(0)) + "\n";

    family(out, "bbsync_wal_size_bytes", "gauge", "Size of the SQLite write-ahead log file.");
    out += "bbsync_wal_size_bytes " + std::to_string(gauges.wal_size_bytes) + "\n";
    return out;
}

}  // namespace bbsync::api

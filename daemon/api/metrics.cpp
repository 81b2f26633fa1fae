#include "daemon/api/metrics.hpp"

#include <cmath>
#include <cstdio>

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
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

void family(std::string& out, const char* name, const char* type, const char* help)
{
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " " + type + "\n";
}

}  // namespace

void metrics::record_http_request(const std::string& host, const std::string& status, double seconds)
{
    ++requests_[{host, status}];
    auto& series = durations_[host];
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
        "Outbound payer and Health Cloud requests, by host and HTTP status (error: no response)."
    );
    for (const auto& [key, count] : requests_)
    {
        out += "bbsync_http_requests_total{host=\"" + label_value(key.first) + "\",status=\"" +
               label_value(key.second) + "\"} " + std::to_string(count) + "\n";
    }

    family(
        out, "bbsync_http_retries_total", "counter", "Outbound requests sent again after a retryable failure."
    );
    out += "bbsync_http_retries_total " + std::to_string(retries_) + "\n";

    family(
        out,
        "bbsync_http_request_duration_seconds",
        "histogram",
        "Duration of outbound payer and Health Cloud requests, retries counted separately."
    );
    for (const auto& [host, series] : durations_)
    {
        const auto host_label = "host=\"" + label_value(host) + "\"";
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

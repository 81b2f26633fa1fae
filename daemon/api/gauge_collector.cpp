#include "daemon/api/gauge_collector.hpp"

#include <chrono>
#include <filesystem>
#include <system_error>

#include "daemon/common/fhir_instant.hpp"

namespace bbsync::api {

metrics_gauges collect_gauges(store::database& db, std::uint64_t token_refreshes)
{
    metrics_gauges gauges;
    gauges.token_refreshes = token_refreshes;

    auto by_status = db.prepare("SELECT status, count(*) FROM sync_jobs GROUP BY status");
    while (by_status.step())
    {
        gauges.jobs_by_status[by_status.column_text(0)] = by_status.column_int64(1);
    }

    // Watermarks are ISO-8601 text, but offsets may differ, so each one is parsed.
    auto watermarks =
        db.prepare("SELECT watermark FROM patients WHERE consent_state = 'active' AND watermark IS NOT NULL");
    std::optional<instant> oldest;
    while (watermarks.step())
    {
        const auto parsed = parse_fhir_instant(watermarks.column_text(0));
        if (parsed && (!oldest || *parsed < *oldest))
        {
            oldest = parsed;
        }
    }
    if (oldest)
    {
        const std::chrono::duration<double> lag = std::chrono::system_clock::now() - *oldest;
        gauges.watermark_lag_seconds = lag.count();
    }

    std::error_code size_error;
    const auto wal_size = std::filesystem::file_size(db.path() + "-wal", size_error);
    gauges.wal_size_bytes = size_error ? 0 : static_cast<std::uint64_t>(wal_size);
    return gauges;
}

}  // namespace bbsync::api

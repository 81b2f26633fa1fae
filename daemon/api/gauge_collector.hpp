#ifndef BBSYNC_DAEMON_API_GAUGE_COLLECTOR_HPP
#define BBSYNC_DAEMON_API_GAUGE_COLLECTOR_HPP

#include <cstdint>

#include "daemon/api/metrics.hpp"
#include "store/database.hpp"

namespace bbsync::api {

// Reads the job counts by status, the oldest watermark of an active patient and the size of
// the database's -wal file. A missing -wal file counts as 0 bytes. Throws store::error on
// database failures.
// NOTE: both queries scan their table on the event loop thread, so a scrape costs time that
// grows with the job history.
metrics_gauges collect_gauges(store::database& db, std::uint64_t token_refreshes);

}  // namespace bbsync::api

#endif

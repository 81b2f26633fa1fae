#ifndef BBSYNC_DAEMON_DATACLOUD_INGEST_REQUESTS_HPP
#define BBSYNC_DAEMON_DATACLOUD_INGEST_REQUESTS_HPP

#include <boost/json/object.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace bbsync {

// Every Ingestion API request body is smaller than this many bytes. The Data Cloud streaming
// ingestion limit is 200 KB per request; 200,000 stays below it whether KB means 1,000 or 1,024.
inline constexpr std::size_t max_ingest_body_bytes = 200000;

// One streaming ingestion request body, {"data":[record, ...]}.
struct ingest_request
{
    std::string body;
    std::size_t record_count = 0;
};

// The requests for a list of records of one Data Cloud object.
struct ingest_split
{
    std::vector<ingest_request> requests;
    // Records that do not fit in a body on their own. They are in no request.
    std::size_t oversized = 0;
};

// Packs `records`, in order, into as few request bodies as fit: each body is the compact JSON
// {"data":[...]} (numbers written by serialize_fhir_json, byte for byte) and is shorter than
// `max_body_bytes`. A record whose body alone would reach `max_body_bytes` is counted in
// `oversized` and left out. Throws only std::bad_alloc.
ingest_split split_ingest_requests(
    std::span<const boost::json::object> records, std::size_t max_body_bytes = max_ingest_body_bytes
);

}  // namespace bbsync

#endif

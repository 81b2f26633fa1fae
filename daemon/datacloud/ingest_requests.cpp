#include "daemon/datacloud/ingest_requests.hpp"

#include <string_view>

#include "daemon/mapping/fhir_json.hpp"

namespace bbsync {
namespace {

constexpr std::string_view body_prefix = "{\"data\":[";
constexpr std::string_view body_suffix = "]}";

}  // namespace

ingest_split split_ingest_requests(std::span<const boost::json::object> records, std::size_t max_body_bytes)
{
    ingest_split split;
    const std::size_t overhead = body_prefix.size() + body_suffix.size();
    ingest_request current;
    current.body = body_prefix;

    auto close_current = [&] {
        if (current.record_count == 0)
        {
            return;
        }
        current.body += body_suffix;
        split.requests.push_back(std::move(current));
        current = ingest_request{};
        current.body = body_prefix;
    };

    for (const auto& record : records)
    {
        const auto text = mapping::serialize_fhir_json(record);
        if (overhead + text.size() >= max_body_bytes)
        {
            ++split.oversized;
            continue;
        }
        // The open body plus a comma, this record and the closing suffix must stay below the limit.
        const std::size_t separator = current.record_count == 0 ? 0 : 1;
        if (current.body.size() + separator + text.size() + body_suffix.size() >= max_body_bytes)
        {
            close_current();
        }
        if (current.record_count != 0)
        {
            current.body += ',';
        }
        current.body += text;
        ++current.record_count;
    }
    close_current();
    return split;
}

}  // namespace bbsync

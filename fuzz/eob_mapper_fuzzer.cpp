// libFuzzer entry point: one input is the text of a FHIR EOB, a Bundle page of EOBs or any JSON.
// It runs the daemon's path for a payer page: parse_fhir_json, map_eob and map_claim_records for
// every EOB found, build_batches over all of them, and serialize_fhir_json of every bundle. The
// serialized bundles must parse again and serialize to the same text.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "daemon/mapping/claim_records.hpp"
#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/fhir_json.hpp"

namespace {

namespace json = boost::json;
using namespace bbsync::mapping;

void map_one(const json::value& resource, const mapping_context& ctx, std::vector<eob_mapping>& mapped)
{
    auto mapping = map_eob(resource, ctx);
    if (mapping)
    {
        mapped.push_back(std::move(*mapping));
    }
    if (const json::object* object = resource.if_object())
    {
        (void)map_claim_records(*object, ctx);
        (void)map_coverage_records(*object, ctx);
    }
}

void check_round_trip(const json::value& value)
{
    const std::string text = serialize_fhir_json(value);
    auto again = parse_fhir_json(text, parse_limits{.max_depth = 64});
    if (!again || serialize_fhir_json(*again) != text)
    {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = parse_fhir_json(text);
    if (!parsed)
    {
        return 0;
    }
    check_round_trip(*parsed);

    mapping_context ctx;
    ctx.sf_patient_id = "001HC000000FUZZ";
    ctx.fallback_last_updated = "2024-01-01T00:00:00Z";
    std::vector<eob_mapping> mapped;
    map_one(*parsed, ctx, mapped);
    if (const json::object* bundle = parsed->if_object())
    {
        if (const json::value* entries = bundle->if_contains("entry"); entries && entries->is_array())
        {
            for (const json::value& entry : entries->get_array())
            {
                if (const json::object* object = entry.if_object())
                {
                    if (const json::value* resource = object->if_contains("resource"))
                    {
                        map_one(*resource, ctx, mapped);
                    }
                }
            }
        }
    }

    // map_eob keeps every dependency group at 22 entries or fewer, so 30 must never throw.
    for (const batch_bundle& batch : build_batches(mapped, 30))
    {
        check_round_trip(batch.bundle);
    }
    return 0;
}

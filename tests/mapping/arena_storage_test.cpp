#include <boost/json/monotonic_resource.hpp>

#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <string_view>

#include "daemon/mapping/claim_records.hpp"
#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "mapping_test_support.hpp"

using namespace bbsync::mapping;
using namespace bbsync::mapping::testing;
namespace json = boost::json;

namespace {

bool in_default_resource(const json::storage_ptr& storage)
{
    return storage.get() == json::storage_ptr().get();
}

std::size_t values_outside_default(const json::value& value);

// Counts the values of `object`, itself included, that are not in the default resource.
std::size_t values_outside_default(const json::object& object)
{
    std::size_t count = in_default_resource(object.storage()) ? 0 : 1;
    for (const auto& member : object)
    {
        count += values_outside_default(member.value());
    }
    return count;
}

std::size_t values_outside_default(const json::value& value)
{
    if (const auto* object = value.if_object())
    {
        return values_outside_default(*object);
    }
    std::size_t count = in_default_resource(value.storage()) ? 0 : 1;
    if (const auto* array = value.if_array())
    {
        for (const auto& element : *array)
        {
            count += values_outside_default(element);
        }
    }
    return count;
}

}  // namespace

// Pages are parsed into an arena that is freed with the page, so the output of the mappers must
// not keep any of it.
TEST_CASE("mapped output owns none of the parsed page's arena", "[mapping]")
{
    const std::string_view pages[] = {
        "bluebutton/bfd-endpoint-responses-v2/eobByPatientIdAll.json",
        "bluebutton/bfd-endpoint-responses-v2/eobReadPde.json",
        "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBPharmacy1.json",
    };
    for (const auto page_path : pages)
    {
        INFO(page_path);
        const std::string text = read_fixture_text(page_path);
        auto arena = json::make_shared_resource<json::monotonic_resource>();
        auto parsed = parse_fhir_json(text, {}, arena);
        REQUIRE(parsed.has_value());

        mapping_context context;
        context.sf_patient_id = test_patient_id;
        // A search page contains its EOBs in entry[].resource, and a read returns the EOB itself.
        const auto* entries = parsed->as_object().if_contains("entry");
        const std::size_t count = entries != nullptr ? entries->as_array().size() : 1;
        for (std::size_t i = 0; i < count; ++i)
        {
            const json::object& eob = entries != nullptr
                                          ? entries->as_array()[i].as_object().at("resource").as_object()
                                          : parsed->as_object();
            // The walk finds the arena in the input, so a zero below means none was copied.
            REQUIRE(values_outside_default(eob) > 0);

            auto mapped = map_eob(eob, context);
            REQUIRE(mapped.has_value());
            for (const auto& resource : mapped->resources)
            {
                CHECK(values_outside_default(resource.resource) == 0);
            }
            for (const auto& batch : build_batches(std::span(&*mapped, 1), 30))
            {
                CHECK(values_outside_default(batch.bundle) == 0);
            }

            auto records = map_claim_records(eob, context);
            REQUIRE(records.has_value());
            for (const auto& [object_name, list] : records->by_object)
            {
                for (const auto& record : list)
                {
                    INFO(object_name);
                    CHECK(values_outside_default(record) == 0);
                }
            }
        }
    }
}

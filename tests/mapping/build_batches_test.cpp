#include <boost/json/serialize.hpp>

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "mapping_test_support.hpp"

using namespace bbsync::mapping;
using namespace bbsync::mapping::testing;

namespace {

std::vector<eob_mapping> all_fixture_mappings()
{
    std::vector<eob_mapping> mappings;
    for (const char* name : {"Carrier", "Dme", "Hha", "Hospice", "Inpatient", "Outpatient", "Pde", "Snf"})
    {
        mappings.push_back(
            map_fixture(std::string("bluebutton/bfd-endpoint-responses-v2/eobRead") + name + ".json")
        );
    }
    for (const char* name :
         {"Inpatient1",
          "Inpatient2",
          "Oral1",
          "Oral2",
          "Outpatient1",
          "Outpatient2",
          "Pharmacy1",
          "Professional1",
          "Professional2",
          "ProfessionalTransportation1"})
    {
        mappings.push_back(
            map_fixture(std::string("carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOB") + name + ".json")
        );
    }
    return mappings;
}

// An EOB with an Encounter and `diagnoses` Conditions, built directly as JSON.
boost::json::object eob_with_diagnoses(const std::string& id, std::size_t diagnoses)
{
    boost::json::array list;
    for (std::size_t i = 1; i <= diagnoses; ++i)
    {
        list.push_back(boost::json::object{
            {"sequence", i},
            {"diagnosisCodeableConcept",
             {{"coding",
               boost::json::array{
                   {{"system", "http://hl7.org/fhir/sid/icd-10-cm"}, {"code", "A0" + std::to_string(i)}}}}}}}
        );
    }
    return boost::json::object{
        {"resourceType", "ExplanationOfBenefit"},
        {"id", id},
        {"type",
         {{"coding",
           boost::json::array{
               {{"system", "https://bluebutton.cms.gov/resources/codesystem/eob-type"},
                {"code", "INPATIENT"}}}}}},
        {"billablePeriod", {{"start", "2020-01-01"}, {"end", "2020-01-05"}}},
        {"diagnosis", std::move(list)}};
}

eob_mapping map_object(const boost::json::object& eob)
{
    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    auto mapped = map_eob(eob, ctx);
    REQUIRE(mapped.has_value());
    return std::move(*mapped);
}

// Checks the invariants every batch must keep, whatever the input.
void check_batches(
    const std::vector<eob_mapping>& eobs, const std::vector<batch_bundle>& batches, std::size_t max_entries
)
{
    std::set<std::pair<std::size_t, std::size_t>> covered;
    std::set<std::string> covered_urls;
    for (std::size_t b = 0; b < batches.size(); ++b)
    {
        INFO("bundle " << b);
        const batch_bundle& batch = batches[b];
        CHECK(string_at(batch.bundle, "/resourceType") == "Bundle");
        CHECK(string_at(batch.bundle, "/type") == "batch");
        const boost::json::array& entries = batch.bundle.at("entry").as_array();
        CHECK(entries.size() <= max_entries);
        CHECK(!entries.empty());
        REQUIRE(entries.size() == batch.entries.size());

        std::set<std::string> full_urls;
        for (std::size_t i = 0; i < entries.size(); ++i)
        {
            const boost::json::object& entry = entries[i].as_object();
            const mapped_resource& source =
                eobs[batch.entries[i].eob_index].resources[batch.entries[i].resource_index];
            CHECK(string_at(entry, "/fullUrl") == source.full_url);
            CHECK(string_at(entry, "/request/method") == "POST");
            CHECK(string_at(entry, "/request/url") == source.resource_type);
            CHECK(string_at(entry, "/request/ifNoneExist").starts_with("identifier="));
            CHECK(entry.at("resource") == boost::json::value(source.resource));
            CHECK(full_urls.insert(source.full_url).second);
            covered.insert({batch.entries[i].eob_index, batch.entries[i].resource_index});
            covered_urls.insert(source.full_url);
        }

        // Every dependency of every entry is in the same bundle.
        for (const bundle_entry_ref& ref : batch.entries)
        {
            const eob_mapping& eob = eobs[ref.eob_index];
            for (const std::size_t dependency : eob.resources[ref.resource_index].depends_on)
            {
                CHECK(full_urls.contains(eob.resources[dependency].full_url));
            }
        }
    }

    // The union of the bundles contains every resource, once per distinct full_url.
    for (std::size_t e = 0; e < eobs.size(); ++e)
    {
        for (std::size_t r = 0; r < eobs[e].resources.size(); ++r)
        {
            INFO("EOB " << eobs[e].eob_id << " resource " << r);
            CHECK(covered_urls.contains(eobs[e].resources[r].full_url));
        }
    }
}

}  // namespace

TEST_CASE("max_entries outside 1-30 is rejected", "[mapping]")
{
    const std::vector<eob_mapping> none;
    CHECK_THROWS_AS(build_batches(none, 0), std::invalid_argument);
    CHECK_THROWS_AS(build_batches(none, 31), std::invalid_argument);
    CHECK(build_batches(none, 30).empty());
    CHECK(build_batches(none, 1).empty());
}

TEST_CASE("fixture EOBs pack into valid bundles", "[mapping]")
{
    const std::vector<eob_mapping> eobs = all_fixture_mappings();
    for (const std::size_t max_entries : {30, 17, 7, 3})
    {
        INFO("max_entries " << max_entries);
        const std::vector<batch_bundle> batches = build_batches(eobs, max_entries);
        check_batches(eobs, batches, max_entries);
    }
}

TEST_CASE("70-resource EOB splits into three bundles", "[mapping]")
{
    const std::vector<eob_mapping> eobs{map_object(eob_with_diagnoses("big-1", 69))};
    REQUIRE(eobs[0].resources.size() == 70);

    const std::vector<batch_bundle> batches = build_batches(eobs, 30);
    REQUIRE(batches.size() == 3);
    CHECK(batches[0].entries.size() == 30);
    CHECK(batches[1].entries.size() == 30);
    CHECK(batches[2].entries.size() == 12);
    for (const batch_bundle& batch : batches)
    {
        // The Encounter is repeated first in every bundle, so each Condition's reference resolves.
        CHECK(batch.entries[0].resource_index == 0);
        CHECK(string_at(batch.bundle, "/entry/0/request/url") == "Encounter");
    }
    check_batches(eobs, batches, 30);
}

TEST_CASE("entries use conditional create", "[mapping]")
{
    const std::vector<eob_mapping> eobs{map_fixture("bluebutton/bfd-endpoint-responses-v2/eobReadPde.json")};
    const std::vector<batch_bundle> batches = build_batches(eobs, 30);
    REQUIRE(batches.size() == 1);
    const boost::json::object& bundle = batches[0].bundle;

    CHECK(
        string_at(bundle, "/entry/0/request/ifNoneExist") ==
        "identifier=http://hl7.org/fhir/sid/us-npi|1750384806"
    );
    CHECK(string_at(bundle, "/entry/1/request/ifNoneExist") == "identifier=urn:bbsync:encounter|pde-89");
    CHECK(
        string_at(bundle, "/entry/2/request/ifNoneExist") ==
        "identifier=urn:bbsync:medication-request|pde-89%23item-1"
    );
    CHECK(string_at(bundle, "/entry/2/request/url") == "MedicationRequest");
}

TEST_CASE("shared practitioner appears once per bundle", "[mapping]")
{
    const eob_mapping first = map_fixture("bluebutton/bfd-endpoint-responses-v2/eobReadPde.json");
    boost::json::value copy = load_fixture("bluebutton/bfd-endpoint-responses-v2/eobReadPde.json");
    copy.as_object()["id"] = "pde-90";
    const std::vector<eob_mapping> eobs{first, map_object(copy.as_object())};

    const std::vector<batch_bundle> batches = build_batches(eobs, 30);
    REQUIRE(batches.size() == 1);
    CHECK(batches[0].entries.size() == 5);
    std::size_t practitioners = 0;
    for (const boost::json::value& entry : batches[0].bundle.at("entry").as_array())
    {
        practitioners += string_at(entry.as_object(), "/request/url") == "Practitioner" ? 1 : 0;
    }
    CHECK(practitioners == 1);
    check_batches(eobs, batches, 30);
}

TEST_CASE("oversized dependency group is rejected", "[mapping]")
{
    const std::vector<eob_mapping> eobs{map_fixture("bluebutton/bfd-endpoint-responses-v2/eobReadPde.json")};
    CHECK_NOTHROW(build_batches(eobs, 3));
    CHECK_THROWS_AS(build_batches(eobs, 2), std::invalid_argument);
}

TEST_CASE("batches serialize identically every run", "[mapping]")
{
    const std::vector<eob_mapping> eobs = all_fixture_mappings();
    const std::vector<batch_bundle> first = build_batches(eobs, 30);
    const std::vector<batch_bundle> second = build_batches(all_fixture_mappings(), 30);
    REQUIRE(first.size() == second.size());
    for (std::size_t i = 0; i < first.size(); ++i)
    {
        CHECK(boost::json::serialize(first[i].bundle) == boost::json::serialize(second[i].bundle));
    }
}

TEST_CASE("serialized batch equals the serialized bundle object", "[mapping]")
{
    // Two EOBs share Practitioners, and the inpatient EOB needs more than one bundle.
    std::vector<eob_mapping> eobs;
    for (const auto* name :
         {"eobReadInpatient.json", "eobReadCarrier.json", "eobReadPde.json", "eobReadCarrier.json"})
    {
        eobs.push_back(map_fixture(std::string("bluebutton/bfd-endpoint-responses-v2/") + name));
    }
    for (const std::size_t max_entries : {5u, 30u})
    {
        INFO("max_entries " << max_entries);
        const auto built = build_batches(eobs, max_entries);
        const auto planned = plan_batches(eobs, max_entries);
        REQUIRE(built.size() == planned.size());
        for (std::size_t i = 0; i < built.size(); ++i)
        {
            CHECK(planned[i].bundle.empty());
            REQUIRE(planned[i].entries.size() == built[i].entries.size());
            CHECK(serialize_batch(eobs, planned[i].entries) == serialize_fhir_json(built[i].bundle));
        }
    }
}

#include <boost/json/serialize.hpp>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "mapping_test_support.hpp"

using namespace bbsync::mapping;
using namespace bbsync::mapping::testing;

namespace {

constexpr std::string_view bfd_dir = "bluebutton/bfd-endpoint-responses-v2/";
constexpr std::string_view carin_dir = "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-";

constexpr std::string_view not_an_instant = "lastUpdated is not a FHIR instant";
constexpr std::string_view short_npi = "careTeam NPI is not 10 digits";
constexpr std::string_view bad_check_digit =
    "careTeam NPI fails the NPI check digit (placeholder or made-up value)";
constexpr std::string_view not_contained = "careTeam provider reference is not contained and carries no NPI";
constexpr std::string_view care_team_organization =
    "careTeam provider is an Organization, not a Practitioner";
constexpr std::string_view provider_unnamed = "provider has neither a valid NPI nor a name";
constexpr std::string_view provider_not_organization = "provider is not an Organization";
constexpr std::string_view provider_name_only = "provider NPI is invalid, so only the name is kept";

struct expected_eob
{
    std::string file;
    std::string id;
    claim_type type;
    std::size_t practitioners;
    std::size_t conditions;
    std::size_t procedures;
    std::size_t medication_requests;
    std::string class_code;
    std::string period_start;
    std::string period_end;
    std::string last_updated;
    std::vector<std::pair<std::string_view, std::string_view>> skipped;
};

std::vector<expected_eob> expected_eobs()
{
    const auto bfd = [](std::string_view name) { return std::string(bfd_dir) + std::string(name); };
    const auto carin = [](std::string_view name) { return std::string(carin_dir) + std::string(name); };
    return {
        {bfd("eobReadCarrier.json"),
         "carrier-9991831999",
         claim_type::carrier,
         0,
         5,
         0,
         0,
         "AMB",
         "1999-10-27",
         "1999-10-27",
         "",
         {{"meta.lastUpdated", not_an_instant},
          {"careTeam[0]", short_npi},
          {"careTeam[1]", short_npi},
          {"careTeam[2]", short_npi},
          {"careTeam[3]", bad_check_digit},
          {"provider", provider_unnamed}}},
        {bfd("eobReadDme.json"),
         "dme-2188888888",
         claim_type::dme,
         1,
         3,
         0,
         0,
         "AMB",
         "2014-02-03",
         "2014-02-03",
         "",
         {{"meta.lastUpdated", not_an_instant},
          {"careTeam[1]", bad_check_digit},
          {"provider", provider_not_organization}}},
        {bfd("eobReadHha.json"),
         "hha-2925555555",
         claim_type::hha,
         0,
         4,
         0,
         0,
         "HH",
         "2015-06-23",
         "2015-06-23",
         "",
         {{"meta.lastUpdated", not_an_instant},
          {"careTeam[0]", bad_check_digit},
          {"careTeam[1]", short_npi},
          {"provider.identifier", provider_name_only}}},
        {bfd("eobReadHospice.json"),
         "hospice-9992223422",
         claim_type::hospice,
         0,
         4,
         0,
         0,
         "IMP",
         "2014-01-01",
         "2014-01-30",
         "",
         {{"meta.lastUpdated", not_an_instant},
          {"careTeam[0]", bad_check_digit},
          {"careTeam[1]", "careTeam provider has only a UPIN, no NPI"},
          {"careTeam[2]", short_npi},
          {"provider.identifier", provider_name_only}}},
        {bfd("eobReadInpatient.json"),
         "inpatient-333333222222",
         claim_type::inpatient,
         0,
         8,
         6,
         0,
         "IMP",
         "2016-01-15",
         "2016-01-27",
         "",
         {{"meta.lastUpdated", not_an_instant},
          {"careTeam[0]", short_npi},
          {"careTeam[1]", bad_check_digit},
          {"careTeam[2]", short_npi},
          {"careTeam[3]", short_npi},
          {"provider.identifier", provider_name_only}}},
        {bfd("eobReadOutpatient.json"),
         "outpatient-1234567890",
         claim_type::outpatient,
         0,
         5,
         1,
         0,
         "AMB",
         "2011-01-24",
         "2011-01-24",
         "",
         {{"meta.lastUpdated", not_an_instant},
          {"careTeam[0]", bad_check_digit},
          {"careTeam[1]", bad_check_digit},
          {"careTeam[2]", short_npi},
          {"careTeam[3]", short_npi},
          {"provider.identifier", provider_name_only}}},
        {bfd("eobReadPde.json"),
         "pde-89",
         claim_type::pde,
         1,
         0,
         0,
         1,
         "AMB",
         "2015-05-12",
         "2015-05-12",
         "",
         {{"meta.lastUpdated", not_an_instant}}},
        {bfd("eobReadSnf.json"),
         "snf-777777777",
         claim_type::snf,
         0,
         5,
         1,
         0,
         "IMP",
         "2013-12-01",
         "2013-12-18",
         "",
         {{"meta.lastUpdated", not_an_instant},
          {"careTeam[0]", bad_check_digit},
          {"careTeam[1]", bad_check_digit},
          {"careTeam[2]", bad_check_digit},
          {"careTeam[3]", short_npi},
          {"provider.identifier", provider_name_only}}},
        {carin("EOBInpatient1.json"),
         "EOBInpatient1",
         claim_type::carin_inpatient,
         0,
         1,
         0,
         0,
         "IMP",
         "2019-01-01",
         "2019-10-31",
         "2019-12-12T09:14:11+00:00",
         {}},
        {carin("EOBInpatient2.json"),
         "EOBInpatient2",
         claim_type::carin_inpatient,
         0,
         4,
         3,
         0,
         "IMP",
         "2017-05-23",
         "2017-05-23",
         "2020-04-28T15:39:36-04:00",
         {{"careTeam[0]", not_contained}, {"careTeam[1]", not_contained}, {"provider", provider_unnamed}}},
        {carin("EOBOral1.json"),
         "EOBOral1",
         claim_type::carin_oral,
         0,
         1,
         0,
         0,
         "AMB",
         "2021-03-01",
         "2021-03-31",
         "2021-03-18T10:23:00-05:00",
         {{"provider", provider_not_organization}}},
        {carin("EOBOral2.json"),
         "EOBOral2",
         claim_type::carin_oral,
         0,
         0,
         0,
         0,
         "AMB",
         "2021-10-01",
         "2021-10-31",
         "2021-10-28T10:23:00-05:00",
         {{"provider", provider_not_organization}}},
        {carin("EOBOutpatient1.json"),
         "EOBOutpatient1",
         claim_type::carin_outpatient,
         0,
         1,
         0,
         0,
         "AMB",
         "2019-01-01",
         "2019-10-31",
         "2019-12-12T09:14:11+00:00",
         {{"careTeam[0]", care_team_organization}}},
        {carin("EOBOutpatient2.json"),
         "EOBOutpatient2",
         claim_type::carin_outpatient,
         0,
         4,
         0,
         0,
         "AMB",
         "2020-09-29",
         "2020-09-29",
         "2020-10-13T11:10:24-04:00",
         {{"careTeam[0]", not_contained}, {"careTeam[1]", not_contained}, {"provider", provider_unnamed}}},
        {carin("EOBPharmacy1.json"),
         "EOBPharmacy1",
         claim_type::carin_pharmacy,
         0,
         0,
         0,
         1,
         "AMB",
         "2019-10-30",
         "2019-10-31",
         "2019-12-12T09:14:11+00:00",
         {}},
        {carin("EOBProfessional1.json"),
         "EOBProfessional1",
         claim_type::carin_professional,
         0,
         1,
         0,
         0,
         "AMB",
         "2019-01-01",
         "2019-10-31",
         "2019-12-12T09:14:11+00:00",
         {}},
        {carin("EOBProfessional2.json"),
         "EOBProfessional2",
         claim_type::carin_professional,
         0,
         2,
         0,
         0,
         "AMB",
         "2020-08-04",
         "2020-08-04",
         "2020-10-20T14:46:05-04:00",
         {{"careTeam[0]", care_team_organization},
          {"careTeam[1]", not_contained},
          {"provider", provider_unnamed}}},
        {carin("EOBProfessionalTransportation1.json"),
         "EOBProfessionalTransportation1",
         claim_type::carin_professional,
         0,
         1,
         0,
         0,
         "AMB",
         "2022-09-10",
         "",
         "2022-09-10T14:46:05-04:00",
         {{"careTeam[0]", care_team_organization}, {"provider", provider_unnamed}}},
    };
}

// Collects every "reference" string that starts with urn:uuid: anywhere in a JSON value.
void collect_uuid_references(const boost::json::value& value, std::set<std::string>& out)
{
    if (const auto* object = value.if_object())
    {
        for (const auto& field : *object)
        {
            if (field.key() == "reference" && field.value().is_string() &&
                field.value().get_string().starts_with("urn:uuid:"))
            {
                out.insert(std::string(field.value().get_string()));
            }
            collect_uuid_references(field.value(), out);
        }
    }
    else if (const auto* array = value.if_array())
    {
        for (const auto& element : *array)
        {
            collect_uuid_references(element, out);
        }
    }
}

}  // namespace

TEST_CASE("fixture EOBs map to expected resources", "[mapping]")
{
    for (const expected_eob& expected : expected_eobs())
    {
        INFO("fixture " << expected.file);
        const eob_mapping mapping = map_fixture(expected.file);

        CHECK(mapping.eob_id == expected.id);
        CHECK(mapping.type == expected.type);
        CHECK(mapping.last_updated == expected.last_updated);
        CHECK(count_resources(mapping, "Encounter") == 1);
        CHECK(count_resources(mapping, "Practitioner") == expected.practitioners);
        CHECK(count_resources(mapping, "Condition") == expected.conditions);
        CHECK(count_resources(mapping, "Procedure") == expected.procedures);
        CHECK(count_resources(mapping, "MedicationRequest") == expected.medication_requests);

        const mapped_resource* encounter = find_resource(mapping, "Encounter", expected.id);
        REQUIRE(encounter != nullptr);
        CHECK(encounter->identifier_system == "urn:bbsync:encounter");
        CHECK(string_at(encounter->resource, "/status") == "finished");
        CHECK(
            string_at(encounter->resource, "/class/system") ==
            "http://terminology.hl7.org/CodeSystem/v3-ActCode"
        );
        CHECK(string_at(encounter->resource, "/class/code") == expected.class_code);
        CHECK(string_at(encounter->resource, "/subject/reference") == "Patient/001HC000000TEST");
        CHECK(string_at(encounter->resource, "/period/start") == expected.period_start);
        CHECK(string_at(encounter->resource, "/period/end") == expected.period_end);

        std::vector<std::pair<std::string_view, std::string_view>> skipped;
        for (const skipped_element& element : mapping.skipped)
        {
            skipped.emplace_back(element.path, element.reason);
        }
        CHECK(skipped == expected.skipped);
    }
}

TEST_CASE("resources carry identifier and full_url", "[mapping]")
{
    for (const expected_eob& expected : expected_eobs())
    {
        INFO("fixture " << expected.file);
        const eob_mapping mapping = map_fixture(expected.file);
        std::set<std::string> full_urls;
        for (const mapped_resource& resource : mapping.resources)
        {
            INFO("resource " << resource.resource_type << " " << resource.identifier_value);
            CHECK(string_at(resource.resource, "/resourceType") == resource.resource_type);
            CHECK(string_at(resource.resource, "/identifier/0/system") == resource.identifier_system);
            CHECK(string_at(resource.resource, "/identifier/0/value") == resource.identifier_value);
            CHECK(resource.full_url.starts_with("urn:uuid:"));
            CHECK(resource.full_url.size() == 45);
            CHECK(full_urls.insert(resource.full_url).second);
        }
    }
}

TEST_CASE("dependencies precede and cover references", "[mapping]")
{
    for (const expected_eob& expected : expected_eobs())
    {
        INFO("fixture " << expected.file);
        const eob_mapping mapping = map_fixture(expected.file);
        for (std::size_t i = 0; i < mapping.resources.size(); ++i)
        {
            const mapped_resource& resource = mapping.resources[i];
            INFO("resource " << resource.identifier_value);
            std::set<std::string> declared;
            for (const std::size_t dependency : resource.depends_on)
            {
                CHECK(dependency < i);
                declared.insert(mapping.resources[dependency].full_url);
            }
            std::set<std::string> referenced;
            collect_uuid_references(boost::json::value(resource.resource), referenced);
            CHECK(referenced == declared);
        }
    }
}

TEST_CASE("repeated mapping gives identical output", "[mapping]")
{
    for (const expected_eob& expected : expected_eobs())
    {
        INFO("fixture " << expected.file);
        const eob_mapping first = map_fixture(expected.file);
        const eob_mapping second = map_fixture(expected.file);
        REQUIRE(first.resources.size() == second.resources.size());
        for (std::size_t i = 0; i < first.resources.size(); ++i)
        {
            CHECK(first.resources[i].full_url == second.resources[i].full_url);
            CHECK(
                boost::json::serialize(first.resources[i].resource) ==
                boost::json::serialize(second.resources[i].resource)
            );
        }
    }
}

TEST_CASE("inpatient condition keeps ICD-10 code", "[mapping]")
{
    const eob_mapping mapping = map_fixture(std::string(bfd_dir) + "eobReadInpatient.json");
    const mapped_resource* encounter = find_resource(mapping, "Encounter", "inpatient-333333222222");
    REQUIRE(encounter != nullptr);
    const mapped_resource* condition =
        find_resource(mapping, "Condition", "inpatient-333333222222#diagnosis-1");
    REQUIRE(condition != nullptr);

    const boost::json::object& resource = condition->resource;
    CHECK(condition->identifier_system == "urn:bbsync:condition");
    CHECK(string_at(resource, "/code/coding/0/system") == "http://hl7.org/fhir/sid/icd-10-cm");
    CHECK(string_at(resource, "/code/coding/0/code") == "A37");
    CHECK(string_at(resource, "/code/coding/1/system") == "http://hl7.org/fhir/sid/icd-10");
    CHECK(string_at(resource, "/code/coding/1/code") == "A37");
    CHECK(
        string_at(resource, "/category/0/coding/0/system") ==
        "http://terminology.hl7.org/CodeSystem/condition-category"
    );
    CHECK(string_at(resource, "/category/0/coding/0/code") == "encounter-diagnosis");
    CHECK(string_at(resource, "/category/1/coding/0/code") == "admitting");
    CHECK(string_at(resource, "/subject/reference") == "Patient/001HC000000TEST");
    CHECK(string_at(resource, "/encounter/reference") == encounter->full_url);
    CHECK(condition->depends_on == std::vector<std::size_t>{0});
}

TEST_CASE("inpatient procedure carries code and date", "[mapping]")
{
    const eob_mapping mapping = map_fixture(std::string(bfd_dir) + "eobReadInpatient.json");
    const mapped_resource* encounter = find_resource(mapping, "Encounter", "inpatient-333333222222");
    REQUIRE(encounter != nullptr);
    const mapped_resource* procedure =
        find_resource(mapping, "Procedure", "inpatient-333333222222#procedure-3");
    REQUIRE(procedure != nullptr);

    const boost::json::object& resource = procedure->resource;
    CHECK(procedure->identifier_system == "urn:bbsync:procedure");
    CHECK(string_at(resource, "/status") == "completed");
    CHECK(string_at(resource, "/code/coding/0/system") == "http://www.cms.gov/Medicare/Coding/ICD10");
    CHECK(string_at(resource, "/code/coding/0/code") == "2W52X6Z");
    CHECK(string_at(resource, "/performedDateTime") == "2016-01-15T00:00:00+00:00");
    CHECK(string_at(resource, "/subject/reference") == "Patient/001HC000000TEST");
    CHECK(string_at(resource, "/encounter/reference") == encounter->full_url);
}

TEST_CASE("inpatient encounter names contained organization", "[mapping]")
{
    const eob_mapping mapping = map_fixture(std::string(bfd_dir) + "eobReadInpatient.json");
    const mapped_resource* encounter = find_resource(mapping, "Encounter", "inpatient-333333222222");
    REQUIRE(encounter != nullptr);
    const boost::json::object& resource = encounter->resource;

    CHECK(string_at(resource, "/serviceProvider/display") == "Fake ORG Name");
    CHECK(string_at(resource, "/serviceProvider/identifier/value").empty());
    CHECK(string_at(resource, "/identifier/0/assigner/display") == "CMS");
    CHECK(
        string_at(resource, "/type/0/coding/1/system") ==
        "https://bluebutton.cms.gov/resources/codesystem/eob-type"
    );
    CHECK(string_at(resource, "/type/0/coding/1/code") == "INPATIENT");
    CHECK(string_at(resource, "/type/1/coding/0/code") == "inpatient");
    CHECK(!resource.contains("participant"));
}

TEST_CASE("SNF codes keep ICD-9 as given", "[mapping]")
{
    const eob_mapping mapping = map_fixture(std::string(bfd_dir) + "eobReadSnf.json");
    const mapped_resource* condition = find_resource(mapping, "Condition", "snf-777777777#diagnosis-3");
    REQUIRE(condition != nullptr);
    CHECK(string_at(condition->resource, "/code/coding/0/system") == "http://hl7.org/fhir/sid/icd-9-cm");
    CHECK(string_at(condition->resource, "/code/coding/0/code") == "V0182");

    const mapped_resource* procedure = find_resource(mapping, "Procedure", "snf-777777777#procedure-1");
    REQUIRE(procedure != nullptr);
    CHECK(string_at(procedure->resource, "/code/coding/0/system") == "http://hl7.org/fhir/sid/icd-9-cm");
    CHECK(string_at(procedure->resource, "/code/coding/0/code") == "9214");
}

TEST_CASE("PDE item becomes MedicationRequest", "[mapping]")
{
    const eob_mapping mapping = map_fixture(std::string(bfd_dir) + "eobReadPde.json");
    const mapped_resource* practitioner = find_resource(mapping, "Practitioner", "1750384806");
    const mapped_resource* encounter = find_resource(mapping, "Encounter", "pde-89");
    const mapped_resource* request = find_resource(mapping, "MedicationRequest", "pde-89#item-1");
    REQUIRE(practitioner != nullptr);
    REQUIRE(encounter != nullptr);
    REQUIRE(request != nullptr);

    CHECK(practitioner->identifier_system == "http://hl7.org/fhir/sid/us-npi");
    CHECK(string_at(practitioner->resource, "/name/0/text") == "DR. ROBERT BISBEE MD");
    CHECK(string_at(practitioner->resource, "/qualification/0/code/coding/0/code") == "207T00000X");

    const boost::json::object& resource = request->resource;
    CHECK(request->identifier_system == "urn:bbsync:medication-request");
    CHECK(string_at(resource, "/status") == "completed");
    CHECK(string_at(resource, "/intent") == "order");
    CHECK(string_at(resource, "/medicationCodeableConcept/coding/0/system") == "http://hl7.org/fhir/sid/ndc");
    CHECK(string_at(resource, "/medicationCodeableConcept/coding/0/code") == "000000000");
    CHECK(string_at(resource, "/authoredOn") == "2015-05-12");
    CHECK(string_at(resource, "/subject/reference") == "Patient/001HC000000TEST");
    CHECK(string_at(resource, "/encounter/reference") == encounter->full_url);
    CHECK(string_at(resource, "/requester/reference") == practitioner->full_url);
    CHECK(
        serialize_fhir_json(resource.at("dispenseRequest")) ==
        R"({"quantity":{"value":60.0},"expectedSupplyDuration":{"value":30,"unit":"days",)"
        R"("system":"http://unitsofmeasure.org","code":"d"}})"
    );

    CHECK(string_at(encounter->resource, "/participant/0/individual/reference") == practitioner->full_url);
    CHECK(string_at(encounter->resource, "/serviceProvider/identifier/value") == "1023011079");
}

TEST_CASE("DME invalid NPI keeps display only", "[mapping]")
{
    const eob_mapping mapping = map_fixture(std::string(bfd_dir) + "eobReadDme.json");
    const mapped_resource* practitioner = find_resource(mapping, "Practitioner", "1306849450");
    const mapped_resource* encounter = find_resource(mapping, "Encounter", "dme-2188888888");
    REQUIRE(practitioner != nullptr);
    REQUIRE(encounter != nullptr);

    const boost::json::object& resource = encounter->resource;
    CHECK(string_at(resource, "/participant/0/type/0/coding/0/code") == "REF");
    CHECK(string_at(resource, "/participant/0/type/0/coding/1/code") == "referring");
    CHECK(string_at(resource, "/participant/0/individual/reference") == practitioner->full_url);
    CHECK(string_at(resource, "/participant/1/type/0/coding/0/code") == "PRF");
    CHECK(string_at(resource, "/participant/1/individual/display") == "DR. DAVID SMITH MD");
    CHECK(string_at(resource, "/participant/1/individual/reference").empty());
    CHECK(encounter->depends_on == std::vector<std::size_t>{0});
}

TEST_CASE("CARIN codes keep dots and hyphens", "[mapping]")
{
    const eob_mapping inpatient = map_fixture(std::string(carin_dir) + "EOBInpatient1.json");
    const mapped_resource* condition = find_resource(inpatient, "Condition", "EOBInpatient1#diagnosis-1");
    REQUIRE(condition != nullptr);
    CHECK(string_at(condition->resource, "/code/coding/0/system") == "http://hl7.org/fhir/sid/icd-10-cm");
    CHECK(string_at(condition->resource, "/code/coding/0/code") == "S06.0X1A");

    const eob_mapping pharmacy = map_fixture(std::string(carin_dir) + "EOBPharmacy1.json");
    const mapped_resource* request = find_resource(pharmacy, "MedicationRequest", "EOBPharmacy1#item-1");
    REQUIRE(request != nullptr);
    CHECK(string_at(request->resource, "/medicationCodeableConcept/coding/0/code") == "0777-3105-02");
    CHECK(string_at(request->resource, "/authoredOn") == "2019-07-02");
    CHECK(!request->resource.contains("requester"));
    CHECK(
        boost::json::serialize(request->resource.at("dispenseRequest")) ==
        R"({"expectedSupplyDuration":{"value":30,"unit":"days","system":"http://unitsofmeasure.org","code":"d"}})"
    );
}

TEST_CASE("CARIN organization provider keeps display", "[mapping]")
{
    const eob_mapping mapping = map_fixture(std::string(carin_dir) + "EOBOutpatient1.json");
    const mapped_resource* encounter = find_resource(mapping, "Encounter", "EOBOutpatient1");
    REQUIRE(encounter != nullptr);
    CHECK(string_at(encounter->resource, "/serviceProvider/display") == "Orange Medical Group");
    CHECK(string_at(encounter->resource, "/type/0/coding/0/code") == "institutional");
    CHECK(string_at(encounter->resource, "/type/1/coding/0/code") == "outpatient");
}

TEST_CASE("node SDK page maps every entry", "[mapping]")
{
    const boost::json::value page = load_fixture("bluebutton/cms-bb2-node-sdk-eob-pages/eob_p0.json");
    const boost::json::array& entries = page.at("entry").as_array();
    REQUIRE(entries.size() == 10);

    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    std::set<std::string> full_urls;
    for (const boost::json::value& entry : entries)
    {
        const boost::json::value& resource = entry.at("resource");
        INFO("EOB " << boost::json::serialize(resource.at("id")));
        const auto mapped = map_eob(resource, ctx);
        REQUIRE(mapped.has_value());
        const std::string_view id = mapped->eob_id;
        CHECK((mapped->type == claim_type::carrier || mapped->type == claim_type::outpatient));
        CHECK(id.starts_with(mapped->type == claim_type::carrier ? "carrier-" : "outpatient-"));
        CHECK(!mapped->last_updated.empty());
        CHECK(count_resources(*mapped, "Encounter") == 1);
        CHECK(count_resources(*mapped, "Condition") >= 1);
        for (const mapped_resource& mapped_resource : mapped->resources)
        {
            if (mapped_resource.resource_type != "Practitioner")
            {
                CHECK(full_urls.insert(mapped_resource.full_url).second);
            }
        }
    }
}

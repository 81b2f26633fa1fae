#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <vector>

#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "daemon/mapping/mapping_error.hpp"
#include "mapping_test_support.hpp"

using namespace bbsync::mapping;
using namespace bbsync::mapping::testing;

namespace {

mapping_context test_context()
{
    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    return ctx;
}

boost::json::object minimal_eob()
{
    return boost::json::object{
        {"resourceType", "ExplanationOfBenefit"},
        {"id", "carrier-1"},
        {"type",
         {{"coding",
           boost::json::array{
               {{"system", "https://bluebutton.cms.gov/resources/codesystem/eob-type"},
                {"code", "CARRIER"}}}}}}};
}

boost::json::object coded_diagnosis(std::int64_t sequence, const char* code)
{
    return boost::json::object{
        {"sequence", sequence},
        {"diagnosisCodeableConcept",
         {{"coding",
           boost::json::array{{{"system", "http://hl7.org/fhir/sid/icd-10-cm"}, {"code", code}}}}}}};
}

}  // namespace

TEST_CASE("non-object EOB is rejected", "[mapping]")
{
    for (const char* text : {"[]", "\"ExplanationOfBenefit\"", "null", "42", "true"})
    {
        INFO("input " << text);
        const auto mapped = map_eob(boost::json::parse(text), test_context());
        REQUIRE(mapped.has_error());
        CHECK(mapped.error() == mapping_errc::not_an_object);
    }
}

TEST_CASE("wrong resourceType is rejected", "[mapping]")
{
    boost::json::object eob = minimal_eob();
    eob["resourceType"] = "Patient";
    CHECK(map_eob(eob, test_context()).error() == mapping_errc::wrong_resource_type);
    eob["resourceType"] = 7;
    CHECK(map_eob(eob, test_context()).error() == mapping_errc::wrong_resource_type);
    eob.erase("resourceType");
    CHECK(map_eob(eob, test_context()).error() == mapping_errc::wrong_resource_type);
}

TEST_CASE("missing or invalid id is rejected", "[mapping]")
{
    boost::json::object eob = minimal_eob();
    eob.erase("id");
    CHECK(map_eob(eob, test_context()).error() == mapping_errc::missing_id);
    eob["id"] = "";
    CHECK(map_eob(eob, test_context()).error() == mapping_errc::missing_id);
    eob["id"] = 12;
    CHECK(map_eob(eob, test_context()).error() == mapping_errc::missing_id);
    eob["id"] = "carrier#1";
    CHECK(map_eob(eob, test_context()).error() == mapping_errc::invalid_id);
    eob["id"] = std::string(65, 'a');
    CHECK(map_eob(eob, test_context()).error() == mapping_errc::invalid_id);
}

TEST_CASE("empty patient id in the context is rejected", "[mapping]")
{
    const auto mapped = map_eob(minimal_eob(), mapping_context{});
    REQUIRE(mapped.has_error());
    CHECK(mapped.error() == mapping_errc::missing_patient_id);
    CHECK(mapped.error().category().name() == std::string("bbsync.mapping"));
    CHECK(!mapped.error().message().empty());
}

TEST_CASE("uncoded diagnosis is skipped", "[mapping]")
{
    boost::json::object eob = minimal_eob();
    eob["diagnosis"] = boost::json::array{
        coded_diagnosis(1, "A01"),
        boost::json::object{{"sequence", 2}},
        boost::json::object{{"sequence", 3}, {"diagnosisReference", {{"reference", "Condition/c1"}}}},
        boost::json::object{
            {"sequence", 4},
            {"diagnosisCodeableConcept", {{"coding", boost::json::array{{{"code", "A02"}}}}}}},
        coded_diagnosis(0, "A03"),
        coded_diagnosis(1, "A04"),
        "not an object",
        coded_diagnosis(7, "A07")};

    const auto mapped = map_eob(eob, test_context());
    REQUIRE(mapped.has_value());
    CHECK(count_resources(*mapped, "Condition") == 2);
    CHECK(find_resource(*mapped, "Condition", "carrier-1#diagnosis-1") != nullptr);
    CHECK(find_resource(*mapped, "Condition", "carrier-1#diagnosis-7") != nullptr);
    CHECK(has_skip(*mapped, "diagnosis[1]", "diagnosis without a code"));
    CHECK(has_skip(*mapped, "diagnosis[2]", "diagnosis given as a reference, not a code"));
    CHECK(has_skip(*mapped, "diagnosis[3]", "diagnosis without a code"));
    CHECK(has_skip(*mapped, "diagnosis[4]", "diagnosis without a positive sequence"));
    CHECK(has_skip(*mapped, "diagnosis[5]", "diagnosis sequence repeats an earlier one"));
    CHECK(has_skip(*mapped, "diagnosis[6]", "diagnosis is not an object"));
}

TEST_CASE("missing claim type gives class UNK", "[mapping]")
{
    boost::json::object eob = minimal_eob();
    eob.erase("type");
    eob["diagnosis"] = boost::json::array{coded_diagnosis(1, "A01")};

    const auto mapped = map_eob(eob, test_context());
    REQUIRE(mapped.has_value());
    CHECK(mapped->type == claim_type::unknown);
    CHECK(has_skip(*mapped, "type", "type has neither an eob-type nor a claim-type coding"));
    const mapped_resource* encounter = find_resource(*mapped, "Encounter", "carrier-1");
    REQUIRE(encounter != nullptr);
    CHECK(
        string_at(encounter->resource, "/class/system") ==
        "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
    );
    CHECK(string_at(encounter->resource, "/class/code") == "UNK");
    CHECK(count_resources(*mapped, "Condition") == 1);
}

TEST_CASE("CARIN vision routes by claim-type", "[mapping]")
{
    boost::json::object eob = minimal_eob();
    eob["type"] = {
        {"coding",
         boost::json::array{
             {{"system", "http://terminology.hl7.org/CodeSystem/claim-type"}, {"code", "vision"}}}}};
    const auto mapped = map_eob(eob, test_context());
    REQUIRE(mapped.has_value());
    CHECK(mapped->type == claim_type::carin_vision);
    CHECK(to_string(mapped->type) == "carin_vision");
    CHECK(string_at(mapped->resources[0].resource, "/class/code") == "AMB");
}

TEST_CASE("claim type ignores meta.profile", "[mapping]")
{
    boost::json::object eob = minimal_eob();
    eob["meta"] = {
        {"profile",
         boost::json::array{
             "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Pharmacy"}}};
    const auto mapped = map_eob(eob, test_context());
    REQUIRE(mapped.has_value());
    CHECK(mapped->type == claim_type::carrier);
}

TEST_CASE("unexpected JSON kinds never throw", "[mapping]")
{
    // Replaces every top-level element of a rich fixture, and every field of its first careTeam,
    // diagnosis, procedure and item entries, with values of each JSON kind.
    const std::vector<boost::json::value> replacements{
        nullptr,
        1,
        -1,
        1.5,
        "x",
        "",
        boost::json::array{},
        boost::json::array{1, "x", nullptr},
        boost::json::object{},
        boost::json::object{{"coding", 3}}};
    const mapping_context ctx = test_context();
    for (const char* file : {"eobReadInpatient.json", "eobReadPde.json", "eobReadCarrier.json"})
    {
        const boost::json::value fixture =
            load_fixture(std::string("bluebutton/bfd-endpoint-responses-v2/") + file);
        for (const auto& field : fixture.as_object())
        {
            for (const boost::json::value& replacement : replacements)
            {
                boost::json::object eob = fixture.as_object();
                eob[field.key()] = replacement;
                INFO(
                    file << " top-level " << std::string(field.key()) << " = "
                         << boost::json::serialize(replacement)
                );
                CHECK_NOTHROW(map_eob(eob, ctx));
            }
        }
        for (const char* array_key :
             {"careTeam", "diagnosis", "procedure", "item", "contained", "supportingInfo"})
        {
            const boost::json::value* list = fixture.as_object().if_contains(array_key);
            if (list == nullptr || list->as_array().empty())
            {
                continue;
            }
            for (const auto& field : list->as_array()[0].as_object())
            {
                for (const boost::json::value& replacement : replacements)
                {
                    boost::json::value eob = fixture;
                    eob.as_object()[array_key].as_array()[0].as_object()[field.key()] = replacement;
                    INFO(
                        file << " " << array_key << "[0]." << std::string(field.key()) << " = "
                             << boost::json::serialize(replacement)
                    );
                    CHECK_NOTHROW(map_eob(eob, ctx));
                }
            }
        }
    }
}

TEST_CASE("Boost 1.81 parses decimals as doubles", "[mapping]")
{
    // Boost.JSON 1.81 has no option to keep number text: parse_options offers only max_depth,
    // allow_comments, allow_trailing_commas and allow_invalid_utf8.
    const boost::json::value decimals =
        boost::json::parse(R"([10.10, 1180591620717411303424, 60.0, 18446744073709551615])");
    const boost::json::array& numbers = decimals.as_array();
    CHECK(numbers[0].is_double());
    CHECK(numbers[1].is_double());
    CHECK(numbers[2].is_double());
    CHECK(numbers[3].is_uint64());
    CHECK(boost::json::serialize(decimals) == "[1.01E1,1.1805916207174113E21,6E1,18446744073709551615]");
}

TEST_CASE("quantity keeps its number text", "[mapping]")
{
    boost::json::value eob = load_fixture("bluebutton/bfd-endpoint-responses-v2/eobReadPde.json");
    const mapping_context ctx = test_context();
    const auto quantity_text = [&](const std::string& value_text) {
        const auto quantity = parse_fhir_json(R"({"value":)" + value_text + "}");
        REQUIRE(quantity.has_value());
        eob.as_object()["item"].as_array()[0].as_object()["quantity"] = *quantity;
        const auto mapped = map_eob(eob, ctx);
        REQUIRE(mapped.has_value());
        const mapped_resource* request = find_resource(*mapped, "MedicationRequest", "pde-89#item-1");
        REQUIRE(request != nullptr);
        return serialize_fhir_json(request->resource.at("dispenseRequest").at("quantity").at("value"));
    };

    CHECK(quantity_text("60.0") == "60.0");
    CHECK(quantity_text("60") == "60");
    CHECK(quantity_text("234.567") == "234.567");
    CHECK(quantity_text("10.10") == "10.10");
    CHECK(quantity_text("1180591620717411303424") == "1180591620717411303424");
    CHECK(quantity_text("18446744073709551617") == "18446744073709551617");
    CHECK(quantity_text("18446744073709551615") == "18446744073709551615");
    CHECK(quantity_text("-0.0") == "-0.0");
}

TEST_CASE("pharmacy item without NDC skipped", "[mapping]")
{
    boost::json::value eob = load_fixture("bluebutton/bfd-endpoint-responses-v2/eobReadPde.json");
    eob.as_object()["item"].as_array()[0].as_object()["productOrService"] = {
        {"coding",
         boost::json::array{
             {{"system", "https://bluebutton.cms.gov/resources/codesystem/hcpcs"}, {"code", "J3490"}}}}};
    const auto mapped = map_eob(eob, test_context());
    REQUIRE(mapped.has_value());
    CHECK(count_resources(*mapped, "MedicationRequest") == 0);
    CHECK(has_skip(*mapped, "item[0]", "pharmacy item without an NDC code"));
}

TEST_CASE("contained care-team practitioner resolves", "[mapping]")
{
    boost::json::object eob = minimal_eob();
    eob["contained"] = boost::json::array{boost::json::object{
        {"resourceType", "Practitioner"},
        {"id", "p1"},
        {"identifier",
         boost::json::array{{{"system", "http://hl7.org/fhir/sid/us-npi"}, {"value", "1306849450"}}}}}};
    eob["careTeam"] =
        boost::json::array{boost::json::object{{"sequence", 1}, {"provider", {{"reference", "#p1"}}}}};
    const auto mapped = map_eob(eob, test_context());
    REQUIRE(mapped.has_value());
    const mapped_resource* practitioner = find_resource(*mapped, "Practitioner", "1306849450");
    REQUIRE(practitioner != nullptr);
    const mapped_resource* encounter = find_resource(*mapped, "Encounter", "carrier-1");
    REQUIRE(encounter != nullptr);
    CHECK(string_at(encounter->resource, "/participant/0/individual/reference") == practitioner->full_url);
}

TEST_CASE("Encounter links at most 20 practitioners", "[mapping]")
{
    // 25 distinct valid NPIs: nine-digit payloads from 100000000 up, each followed by its check digit.
    const std::vector<std::string> npis = [] {
        std::vector<std::string> result;
        for (int base = 100000000; result.size() < 25; ++base)
        {
            const std::string payload = "80840" + std::to_string(base);
            int sum = 0;
            for (std::size_t i = 0; i < payload.size(); ++i)
            {
                int digit = payload[payload.size() - 1 - i] - '0';
                if (i % 2 == 0)
                {
                    digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
                }
                sum += digit;
            }
            result.push_back(std::to_string(base) + std::to_string((10 - sum % 10) % 10));
        }
        return result;
    }();

    boost::json::object eob = minimal_eob();
    boost::json::array care_team;
    for (std::size_t i = 0; i < npis.size(); ++i)
    {
        care_team.push_back(boost::json::object{
            {"sequence", i + 1},
            {"provider",
             {{"identifier",
               {{"type",
                 {{"coding",
                   boost::json::array{
                       {{"system", "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType"},
                        {"code", "npi"}}}}}},
                {"value", npis[i]}}}}}});
    }
    eob["careTeam"] = std::move(care_team);

    const auto mapped = map_eob(eob, test_context());
    REQUIRE(mapped.has_value());
    for (const skipped_element& skipped : mapped->skipped)
    {
        CHECK(!skipped.path.starts_with("careTeam"));
    }
    CHECK(count_resources(*mapped, "Practitioner") == 25);
    const mapped_resource* encounter = find_resource(*mapped, "Encounter", "carrier-1");
    REQUIRE(encounter != nullptr);
    CHECK(encounter->depends_on.size() == 20);
    CHECK(string_at(encounter->resource, "/participant/20/individual/identifier/value") == npis[20]);

    const std::vector<eob_mapping> eobs{*mapped};
    CHECK_NOTHROW(build_batches(eobs, 30));
    CHECK_THROWS_AS(build_batches(eobs, 20), std::invalid_argument);
}

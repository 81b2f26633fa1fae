#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/mapping/claim_records.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "daemon/mapping/mapping_error.hpp"
#include "mapping_test_support.hpp"

namespace {

using namespace bbsync::mapping;
using namespace bbsync::mapping::testing;
namespace json = boost::json;

struct schema_field
{
    std::string type;
    std::string format;
};

struct schema_object
{
    std::string type;
    std::vector<std::string> field_order;
    std::map<std::string, schema_field> fields;
};

std::string trim(std::string_view text)
{
    const auto first = text.find_first_not_of(' ');
    const auto last = text.find_last_not_of(' ');
    return first == std::string_view::npos ? std::string()
                                           : std::string(text.substr(first, last - first + 1));
}

// Reads the YAML subset that BlueButtonClaim.yaml uses: block mappings indented by two spaces,
// plain or single-quoted scalars, comment lines. Under components.schemas every object has
// description, type and properties; every property has type, optional format and description.
// Anything else (a nested object, a list, an unknown key) throws, so the file stays flat.
std::map<std::string, schema_object> read_schema()
{
    const std::string path = std::string(BBSYNC_SOURCE_DIR) + "/docs/datacloud/BlueButtonClaim.yaml";
    std::ifstream file(path);
    if (!file)
    {
        throw std::runtime_error("cannot open " + path);
    }
    std::map<std::string, schema_object> objects;
    std::string line;
    std::string top;
    std::string object;
    std::string field;
    bool in_properties = false;
    int line_number = 0;
    while (std::getline(file, line))
    {
        ++line_number;
        if (trim(line).empty() || trim(line)[0] == '#')
        {
            continue;
        }
        const auto indent = line.find_first_not_of(' ');
        const auto colon = line.find(':', indent);
        if (colon == std::string::npos || line[indent] == '-')
        {
            throw std::runtime_error("unsupported YAML at line " + std::to_string(line_number));
        }
        const std::string key = line.substr(indent, colon - indent);
        const std::string value = trim(std::string_view(line).substr(colon + 1));
        const auto fail = [&] {
            throw std::runtime_error("unexpected key " + key + " at line " + std::to_string(line_number));
        };
        if (indent == 0)
        {
            top = key;
        }
        else if (top != "components")
        {
            continue;
        }
        else if (indent == 2)
        {
            if (key != "schemas")
            {
                fail();
            }
        }
        else if (indent == 4)
        {
            object = key;
            in_properties = false;
            objects[object];
        }
        else if (indent == 6)
        {
            if (key == "type")
            {
                objects[object].type = value;
            }
            else if (key == "properties")
            {
                in_properties = true;
            }
            else if (key != "description")
            {
                fail();
            }
        }
        else if (indent == 8 && in_properties && value.empty())
        {
            field = key;
            objects[object].field_order.push_back(field);
            objects[object].fields[field];
        }
        else if (indent == 10 && (key == "type" || key == "format"))
        {
            (key == "type" ? objects[object].fields[field].type : objects[object].fields[field].format) =
                value;
        }
        else if (!(indent == 10 && key == "description"))
        {
            fail();
        }
    }
    return objects;
}

const std::map<std::string, schema_object>& schema()
{
    static const auto objects = read_schema();
    return objects;
}

// Returns "" when the record matches the schema object, otherwise the first mismatch.
std::string check_record(const json::object& record, const schema_object& object)
{
    static const std::regex date(R"(\d{4}-\d{2}-\d{2})");
    static const std::regex date_time(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
    if (record.size() != object.fields.size())
    {
        return "record has " + std::to_string(record.size()) + " fields, schema " +
               std::to_string(object.fields.size());
    }
    for (const auto& [key, value] : record)
    {
        const auto found = object.fields.find(std::string(key));
        if (found == object.fields.end())
        {
            return "field " + std::string(key) + " not in schema";
        }
        if (value.is_null())
        {
            if (key == "id")
            {
                return "id is null";
            }
            continue;
        }
        const schema_field& field = found->second;
        bool ok = false;
        if (field.type == "string")
        {
            ok = value.is_string() && !kept_number_text(value);
            const std::string text = ok ? std::string(value.get_string()) : std::string();
            if (ok && field.format == "date")
            {
                ok = std::regex_match(text, date);
            }
            else if (ok && field.format == "date-time")
            {
                ok = std::regex_match(text, date_time);
            }
        }
        else if (field.type == "number")
        {
            ok = is_json_number(value);
        }
        else if (field.type == "boolean")
        {
            ok = value.is_bool();
        }
        if (!ok)
        {
            return "field " + std::string(key) + " does not match type " + field.type + " " + field.format;
        }
    }
    return {};
}

void check_records(const claim_records& records)
{
    for (const auto& [name, list] : records.by_object)
    {
        INFO("object " << name);
        const auto object = schema().find(name);
        REQUIRE(object != schema().end());
        std::set<std::string> ids;
        for (const json::object& record : list)
        {
            CHECK(check_record(record, object->second) == "");
            CHECK(ids.insert(std::string(record.at("id").as_string())).second);
        }
    }
}

claim_records map_records(const json::value& resource)
{
    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    const json::object& object = resource.as_object();
    auto records = object.at("resourceType") == "Coverage" ? map_coverage_records(object, ctx)
                                                           : map_claim_records(object, ctx);
    REQUIRE(records.has_value());
    return *records;
}

json::value load_exact(std::string_view relative_path)
{
    std::ifstream file(std::string(BBSYNC_FIXTURES_DIR) + "/" + std::string(relative_path), std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    auto parsed = parse_fhir_json(text.str());
    REQUIRE(parsed.has_value());
    return *parsed;
}

// Collects names, birth dates, addresses and MBIs anywhere in a FHIR value.
void collect_demographics(const json::value& value, std::set<std::string>& found)
{
    if (const json::array* array = value.if_array())
    {
        for (const json::value& element : *array)
        {
            collect_demographics(element, found);
        }
        return;
    }
    const json::object* object = value.if_object();
    if (object == nullptr)
    {
        return;
    }
    const auto add_strings = [&](const json::value& field) {
        if (field.is_string())
        {
            found.insert(std::string(field.get_string()));
        }
        else if (field.is_array())
        {
            for (const json::value& element : field.get_array())
            {
                if (element.is_string())
                {
                    found.insert(std::string(element.get_string()));
                }
            }
        }
    };
    for (const auto& [key, field] : *object)
    {
        if (key == "family" || key == "given" || key == "birthDate" || key == "line" || key == "postalCode")
        {
            add_strings(field);
        }
    }
    const json::value* system = object->if_contains("system");
    const json::value* identifier_value = object->if_contains("value");
    if (system != nullptr && system->is_string() && identifier_value != nullptr &&
        std::string_view(system->get_string()).find("mbi") != std::string_view::npos)
    {
        add_strings(*identifier_value);
    }
    if (object->contains("subscriberId"))
    {
        add_strings(object->at("subscriberId"));
    }
    for (const auto& member : *object)
    {
        collect_demographics(member.value(), found);
    }
}

const char* const claim_fixtures[] = {
    "bluebutton/bfd-endpoint-responses-v2/eobReadCarrier.json",
    "bluebutton/bfd-endpoint-responses-v2/eobReadCarrierWithTaxNumbers.json",
    "bluebutton/bfd-endpoint-responses-v2/eobReadDme.json",
    "bluebutton/bfd-endpoint-responses-v2/eobReadHha.json",
    "bluebutton/bfd-endpoint-responses-v2/eobReadHospice.json",
    "bluebutton/bfd-endpoint-responses-v2/eobReadInpatient.json",
    "bluebutton/bfd-endpoint-responses-v2/eobReadOutpatient.json",
    "bluebutton/bfd-endpoint-responses-v2/eobReadPde.json",
    "bluebutton/bfd-endpoint-responses-v2/eobReadSnf.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBInpatient1.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBInpatient2.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBOutpatient1.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBOutpatient2.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBOral1.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBOral2.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBPharmacy1.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBProfessional1.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBProfessional2.json",
    "carin-bb/ig-2.0.0-examples/ExplanationOfBenefit-EOBProfessionalTransportation1.json",
    "carin-bb/ig-2.0.0-nonfinancial-devbuild/ExplanationOfBenefit-EOBInpatientNonFinancial1.json",
    "carin-bb/ig-2.0.0-nonfinancial-devbuild/ExplanationOfBenefit-EOBOralNonFinancial1.json",
    "carin-bb/ig-2.0.0-nonfinancial-devbuild/ExplanationOfBenefit-EOBPharmacyNonFinancial1.json",
    "carin-bb/ig-2.0.0-nonfinancial-devbuild/ExplanationOfBenefit-EOBProfessionalNonFinancial1.json",
};

const char* const coverage_fixtures[] = {
    "bluebutton/bfd-endpoint-responses-v2/coverageRead.json",
    "carin-bb/ig-2.0.0-examples/Coverage-Coverage1.json",
    "carin-bb/ig-2.0.0-examples/Coverage-Coverage2.json",
    "carin-bb/ig-2.0.0-examples/Coverage-Coverage3.json",
    "carin-bb/ig-2.0.0-examples/Coverage-CoverageDental1.json",
};

const char* const patient_fixtures[] = {
    "bluebutton/bfd-endpoint-responses-v2/patientRead.json",
    "bluebutton/bb_sample_data_bbuser29999/patient_bbuser29999.json",
    "carin-bb/ig-2.0.0-examples/Patient-Patient1.json",
    "carin-bb/ig-2.0.0-examples/Patient-Patient2.json",
};

json::object minimal_eob()
{
    return json::parse(R"({
        "resourceType": "ExplanationOfBenefit",
        "id": "eob-1",
        "meta": {"lastUpdated": "2020-10-30T09:48:01.8462752-04:00"},
        "item": [
            {"sequence": 1, "quantity": {"value": 10.10},
             "adjudication": [{"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "submitted"}]},
                               "amount": {"value": 134.00, "currency": "USD"}}]},
            {"sequence": 1, "quantity": {"value": 2}},
            {"sequence": 0},
            {"quantity": {"value": 3}}
        ]
    })")
        .as_object();
}

}  // namespace

TEST_CASE("schema file is a flat Data Cloud schema", "[mapping]")
{
    static const std::set<std::string> reserved{
        "date_id",
        "location_id",
        "dat_account_currency",
        "dat_exchange_rate",
        "pacing_period",
        "pacing_end_date",
        "row_count",
        "version"};
    static const std::set<std::string> types{"string", "number", "boolean"};
    static const std::regex name(R"([A-Za-z0-9_-]{1,80})");

    REQUIRE(schema().size() == 6);
    for (const auto& [object_name, object] : schema())
    {
        INFO("object " << object_name);
        CHECK(std::regex_match(object_name, name));
        CHECK(object.type == "object");
        CHECK(object.fields.size() <= 1000);
        REQUIRE(object.fields.count("id") == 1);
        CHECK(object.fields.at("id").type == "string");
        REQUIRE(object.fields.count("lastUpdated") == 1);
        CHECK(object.fields.at("lastUpdated").type == "string");
        CHECK(object.fields.at("lastUpdated").format == "date-time");
        for (const auto& [field_name, field] : object.fields)
        {
            INFO("field " << field_name);
            CHECK(std::regex_match(field_name, name));
            CHECK(field_name.find("__") == std::string::npos);
            CHECK(reserved.count(field_name) == 0);
            CHECK(types.count(field.type) == 1);
        }
    }
}

TEST_CASE("schema file and record fields agree", "[mapping]")
{
    for (const auto& [object_name, object] : schema())
    {
        INFO("object " << object_name);
        const auto fields = claim_record_fields(object_name);
        REQUIRE(fields.size() == object.field_order.size());
        for (std::size_t i = 0; i < fields.size(); ++i)
        {
            CHECK(fields[i] == object.field_order[i]);
        }
    }
    CHECK(claim_record_fields("Patient").empty());
}

TEST_CASE("claim records match schema for every claim type", "[mapping]")
{
    for (const char* fixture : claim_fixtures)
    {
        INFO(fixture);
        const json::value eob = load_exact(fixture);
        const claim_records records = map_records(eob);
        check_records(records);
        REQUIRE(records.by_object.at("ClaimHeader").size() == 1);
        CHECK(records.by_object.at("ClaimHeader")[0].at("id") == eob.at("id"));
        CHECK(records.by_object.count("ClaimLineItem") == 1);
        CHECK(records.by_object.count("ClaimDiagnosis") == 1);
        CHECK(records.by_object.count("ClaimProcedure") == 1);
        CHECK(records.by_object.count("ClaimCareTeam") == 1);
    }
}

TEST_CASE("coverage records match schema", "[mapping]")
{
    for (const char* fixture : coverage_fixtures)
    {
        INFO(fixture);
        const claim_records records = map_records(load_exact(fixture));
        check_records(records);
        CHECK(records.by_object.at("ClaimCoverage").size() == 1);
    }
}

TEST_CASE("page records match schema", "[mapping]")
{
    const json::value page = load_exact("bluebutton/cms-bb2-node-sdk-eob-pages/eob_p0.json");
    std::size_t eobs = 0;
    for (const json::value& entry : page.at("entry").as_array())
    {
        check_records(map_records(entry.at("resource")));
        ++eobs;
    }
    CHECK(eobs > 0);
}

TEST_CASE("claim records hold no patient demographics", "[mapping]")
{
    std::set<std::string> demographics;
    for (const char* fixture : patient_fixtures)
    {
        collect_demographics(load_exact(fixture), demographics);
    }
    std::vector<const char*> fixtures(std::begin(claim_fixtures), std::end(claim_fixtures));
    fixtures.insert(fixtures.end(), std::begin(coverage_fixtures), std::end(coverage_fixtures));
    for (const char* fixture : fixtures)
    {
        collect_demographics(load_exact(fixture), demographics);
    }
    REQUIRE(demographics.count("3456789") == 1);  // Blue Button MBI and Coverage subscriberId
    REQUIRE(demographics.size() > 10);

    for (const char* fixture : fixtures)
    {
        INFO(fixture);
        const claim_records records = map_records(load_exact(fixture));
        for (const auto& [object_name, list] : records.by_object)
        {
            for (const json::object& record : list)
            {
                for (const auto& [key, value] : record)
                {
                    if (!value.is_string() || key == "id" || key == "claimId")
                    {
                        continue;
                    }
                    INFO(object_name << "." << std::string(key));
                    CHECK(demographics.count(std::string(value.get_string())) == 0);
                }
            }
        }
    }
}

TEST_CASE("record ids derive from EOB id and sequence", "[mapping]")
{
    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    const auto records = map_claim_records(minimal_eob(), ctx);
    REQUIRE(records.has_value());
    const auto& items = records->by_object.at("ClaimLineItem");
    REQUIRE(items.size() == 1);
    CHECK(items[0].at("id") == "eob-1-item-1");
    CHECK(items[0].at("claimId") == "eob-1");
    CHECK(items[0].at("sequence") == 1);

    const json::value eob = load_exact("bluebutton/bfd-endpoint-responses-v2/eobReadInpatient.json");
    const claim_records inpatient = map_records(eob);
    const std::string id(eob.at("id").as_string());
    REQUIRE(!inpatient.by_object.at("ClaimDiagnosis").empty());
    CHECK(inpatient.by_object.at("ClaimDiagnosis")[0].at("id") == json::value(id + "-diagnosis-1"));
    REQUIRE(!inpatient.by_object.at("ClaimProcedure").empty());
    CHECK(inpatient.by_object.at("ClaimProcedure")[0].at("id") == json::value(id + "-procedure-1"));
}

TEST_CASE("record numbers keep their text", "[mapping]")
{
    const auto eob = parse_fhir_json(
        R"({"resourceType":"ExplanationOfBenefit","id":"eob-1","item":[{"sequence":1,"quantity":{"value":10.10},)"
        R"("adjudication":[{"category":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/adjudication",)"
        R"("code":"submitted"}]},"amount":{"value":134.00,"currency":"USD"}}]}],)"
        R"("payment":{"amount":{"value":1180591620717411303424}}})"
    );
    REQUIRE(eob.has_value());
    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    const auto records = map_claim_records(eob->as_object(), ctx);
    REQUIRE(records.has_value());
    const json::object& item = records->by_object.at("ClaimLineItem").at(0);
    CHECK(serialize_fhir_json(item.at("quantity")) == "10.10");
    CHECK(serialize_fhir_json(item.at("submittedAmount")) == "134.00");
    CHECK(item.at("currency") == "USD");
    const json::object& header = records->by_object.at("ClaimHeader").at(0);
    CHECK(serialize_fhir_json(header.at("paymentAmount")) == "1180591620717411303424");
}

TEST_CASE("lastUpdated is converted to UTC milliseconds", "[mapping]")
{
    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    json::object eob = minimal_eob();
    const auto converted = [&](const char* last_updated) {
        eob["meta"] = json::object{{"lastUpdated", last_updated}};
        const auto records = map_claim_records(eob, ctx);
        REQUIRE(records.has_value());
        return json::serialize(records->by_object.at("ClaimHeader").at(0).at("lastUpdated"));
    };
    CHECK(converted("2020-10-30T09:48:01.8462752-04:00") == R"("2020-10-30T13:48:01.846Z")");
    CHECK(converted("2020-12-31T23:30:00Z") == R"("2020-12-31T23:30:00.000Z")");
    CHECK(converted("2021-01-01T01:00:00+02:00") == R"("2020-12-31T23:00:00.000Z")");
    CHECK(converted("2020-02-30T00:00:00Z") == "null");
    CHECK(converted("IGNORED_FIELD") == "null");
    CHECK(converted("2020-10-30") == "null");

    ctx.fallback_last_updated = "2024-05-01T12:00:00.5+00:00";
    CHECK(converted("IGNORED_FIELD") == R"("2024-05-01T12:00:00.500Z")");
}

TEST_CASE("claim records reject unusable resources", "[mapping]")
{
    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    json::object eob = minimal_eob();

    mapping_context no_patient;
    CHECK(map_claim_records(eob, no_patient).error() == mapping_errc::missing_patient_id);
    CHECK(map_coverage_records(eob, ctx).error() == mapping_errc::wrong_resource_type);
    eob["id"] = "bad id!";
    CHECK(map_claim_records(eob, ctx).error() == mapping_errc::invalid_id);
    eob.erase("id");
    CHECK(map_claim_records(eob, ctx).error() == mapping_errc::missing_id);
}

TEST_CASE("claim records are deterministic", "[mapping]")
{
    for (const char* fixture : claim_fixtures)
    {
        INFO(fixture);
        const json::value eob = load_exact(fixture);
        const claim_records first = map_records(eob);
        const claim_records second = map_records(eob);
        REQUIRE(first.by_object.size() == second.by_object.size());
        for (const auto& [name, list] : first.by_object)
        {
            const auto& other = second.by_object.at(name);
            REQUIRE(list.size() == other.size());
            for (std::size_t i = 0; i < list.size(); ++i)
            {
                CHECK(serialize_fhir_json(list[i]) == serialize_fhir_json(other[i]));
            }
        }
    }
}

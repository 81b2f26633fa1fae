#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "daemon/mapping/resource_subset.hpp"
#include "daemon/salesforce/salesforce_client.hpp"
#include "daemon/sync/repository.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace {

namespace json = boost::json;
using bbsync::mapping::eob_mapping;
using bbsync::mapping::mapped_resource;

mapped_resource resource(
    const std::string& type, const std::string& value, std::vector<std::size_t> depends_on
)
{
    mapped_resource result;
    result.resource_type = type;
    result.identifier_system = "urn:test";
    result.identifier_value = value;
    result.full_url = "urn:uuid:" + value;
    result.resource = json::object{{"resourceType", type}};
    result.depends_on = std::move(depends_on);
    return result;
}

// An EOB mapping shaped like map_eob's output: a Practitioner, an Encounter that references it,
// and a Condition and a Procedure that reference the Encounter.
eob_mapping sample_mapping()
{
    eob_mapping eob;
    eob.eob_id = "eob-1";
    eob.resources.push_back(resource("Practitioner", "p1", {}));
    auto encounter = resource("Encounter", "e1", {0});
    encounter.resource["participant"] =
        json::array{json::object{{"individual", json::object{{"reference", "urn:uuid:p1"}}}}};
    eob.resources.push_back(std::move(encounter));
    auto condition = resource("Condition", "c1", {1});
    condition.resource["encounter"] = json::object{{"reference", "urn:uuid:e1"}};
    eob.resources.push_back(std::move(condition));
    auto procedure = resource("Procedure", "r1", {1});
    procedure.resource["encounter"] = json::object{{"reference", "urn:uuid:e1"}};
    procedure.resource["performer"] =
        json::array{json::object{{"actor", json::object{{"reference", "urn:uuid:p1"}}}}};
    procedure.depends_on.push_back(0);
    eob.resources.push_back(std::move(procedure));
    return eob;
}

bbsync::store::database migrated_database()
{
    auto db = bbsync::store::database::open(":memory:");
    bbsync::store::migrate(db, bbsync::store::load_migrations(bbsync::store::project_migrations()));
    return db;
}

}  // namespace

TEST_CASE("batch entries keep status, issue code and location", "[daemon][engine]")
{
    const auto body = json::parse(R"({"resourceType": "Bundle", "type": "batch-response", "entry": [
        {"response": {"status": "201 Created", "location": "Practitioner/abc/_history/1"}},
        {"response": {"status": "400 Bad Request", "outcome": {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": "Mary Doe"}]}}},
        {"response": {"status": "424 Failed Dependency", "outcome": {"issue": [{"code": "processing"}]}}}
    ]})");
    const auto entries = bbsync::parse_batch_entries(body, 3);
    REQUIRE(entries);
    REQUIRE(entries->size() == 3);
    CHECK((*entries)[0].status == 201);
    CHECK((*entries)[0].location == "Practitioner/abc/_history/1");
    CHECK((*entries)[0].issue_code.empty());
    CHECK((*entries)[1].status == 400);
    CHECK((*entries)[1].issue_code == "invalid");
    CHECK((*entries)[2].status == 424);
    CHECK((*entries)[2].issue_code == "processing");
    CHECK_FALSE(bbsync::parse_batch_entries(body, 2));
}

TEST_CASE("batch entries drop an overlong issue code", "[daemon][engine]")
{
    const std::string code(40, 'x');
    const auto body = json::parse(
        R"({"type": "batch-response", "entry": [{"response": {"status": "400", "outcome": {"issue": [{"code": ")" +
        code + R"("}]}}}]})"
    );
    const auto entries = bbsync::parse_batch_entries(body, 1);
    REQUIRE(entries);
    CHECK((*entries)[0].issue_code.empty());
}

TEST_CASE("collection upsert results are read per record", "[daemon][engine]")
{
    const auto body = json::parse(R"([
        {"id": "a01", "success": true, "errors": [], "created": true},
        {"id": null, "success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "x",
            "fields": ["Status__c"]}]},
        {"id": "a02", "success": true, "errors": [], "created": false}
    ])");
    const auto results = bbsync::parse_collection_upsert_response(body, 3);
    REQUIRE(results);
    REQUIRE(results->size() == 3);
    CHECK((*results)[0].success);
    CHECK_FALSE((*results)[1].success);
    CHECK((*results)[1].error_code == "REQUIRED_FIELD_MISSING");
    CHECK((*results)[2].success);
    CHECK_FALSE(bbsync::parse_collection_upsert_response(body, 2));
    CHECK_FALSE(bbsync::parse_collection_upsert_response(json::parse(R"([{"id": "a"}])"), 1));
    CHECK_FALSE(bbsync::parse_collection_upsert_response(json::parse(R"({"success": true})"), 1));
}

TEST_CASE("searchset gives the first Practitioner id", "[daemon][engine]")
{
    const auto found = json::parse(R"({"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [
        {"resource": {"resourceType": "Practitioner", "id": "hc-7"}}]})");
    CHECK(bbsync::first_searchset_id(found) == std::optional<std::string>("hc-7"));
    const auto empty =
        json::parse(R"({"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []})");
    CHECK_FALSE(bbsync::first_searchset_id(empty));
    const auto other = json::parse(R"({"type": "searchset", "entry": [{"resource": {"resourceType": "Patient",
        "id": "x"}}]})");
    CHECK_FALSE(bbsync::first_searchset_id(other));
    CHECK_FALSE(bbsync::first_searchset_id(json::parse(R"({"type": "batch-response"})")));
}

TEST_CASE("Healthcare API base drops the Bundle segment", "[daemon][engine]")
{
    CHECK(bbsync::healthcare_api_base("/bundle/fhir-r4/v1/Bundle") == "/bundle/fhir-r4/v1");
    CHECK(bbsync::healthcare_api_base("/bundle/fhir-r4/v1/") == "/bundle/fhir-r4/v1");
    CHECK(bbsync::healthcare_api_base("/bundle/fhir-r4/v1") == "/bundle/fhir-r4/v1");
    CHECK(bbsync::healthcare_api_base("/Bundle/") == "");
}

TEST_CASE("limit pause ends at the next UTC midnight", "[daemon][engine]")
{
    using namespace std::chrono;
    const sys_days day = 2026y / December / 4;
    CHECK(bbsync::next_utc_midnight(day + hours(19) + minutes(5)) == day + days(1));
    CHECK(bbsync::next_utc_midnight(day) == day + days(1));
}

TEST_CASE("dependencies are followed transitively", "[daemon][engine]")
{
    const auto eob = sample_mapping();
    CHECK(bbsync::mapping::dependencies_of(eob, 0).empty());
    CHECK(bbsync::mapping::dependencies_of(eob, 1) == std::vector<std::size_t>{0});
    CHECK(bbsync::mapping::dependencies_of(eob, 2) == std::vector<std::size_t>{0, 1});
    CHECK(bbsync::mapping::dependencies_of(eob, 3) == std::vector<std::size_t>{0, 1});
    CHECK(bbsync::mapping::dependencies_of(eob, 9).empty());
}

TEST_CASE("known Practitioner becomes a literal reference", "[daemon][engine]")
{
    auto eob = sample_mapping();
    const std::map<std::string, std::string> known{{"urn:uuid:p1", "Practitioner/hc-7"}};
    CHECK(bbsync::mapping::substitute_known_resources(eob, known) == 1);
    REQUIRE(eob.resources.size() == 3);
    CHECK(eob.resources[0].resource_type == "Encounter");
    CHECK(eob.resources[0].depends_on.empty());
    CHECK(eob.resources[1].depends_on == std::vector<std::size_t>{0});
    CHECK(eob.resources[2].depends_on == std::vector<std::size_t>{0});
    const auto encounter = json::serialize(eob.resources[0].resource);
    CHECK(encounter.find("Practitioner/hc-7") != std::string::npos);
    CHECK(encounter.find("urn:uuid:p1") == std::string::npos);
    const auto procedure = json::serialize(eob.resources[2].resource);
    CHECK(procedure.find("Practitioner/hc-7") != std::string::npos);
    CHECK(procedure.find("urn:uuid:e1") != std::string::npos);
}

TEST_CASE("substitution without known ids changes nothing", "[daemon][engine]")
{
    auto eob = sample_mapping();
    CHECK(bbsync::mapping::substitute_known_resources(eob, {}) == 0);
    CHECK(eob.resources.size() == 4);
    CHECK(json::serialize(eob.resources[1].resource).find("urn:uuid:p1") != std::string::npos);
}

TEST_CASE("resend subset carries the dependents' roots", "[daemon][engine]")
{
    const auto eob = sample_mapping();
    std::vector<std::size_t> original;
    const std::vector<std::size_t> wanted{2};
    const auto subset = bbsync::mapping::subset_with_dependencies(eob, wanted, original);
    CHECK(original == std::vector<std::size_t>{0, 1, 2});
    REQUIRE(subset.resources.size() == 3);
    CHECK(subset.eob_id == "eob-1");
    CHECK(subset.resources[2].resource_type == "Condition");
    CHECK(subset.resources[2].depends_on == std::vector<std::size_t>{1});
    CHECK(subset.resources[1].depends_on == std::vector<std::size_t>{0});

    const std::vector<std::size_t> out_of_range{7};
    CHECK(bbsync::mapping::subset_with_dependencies(eob, out_of_range, original).resources.empty());
    CHECK(original.empty());
}

TEST_CASE("Practitioner ids are stored by NPI", "[daemon][engine]")
{
    auto db = migrated_database();
    bbsync::repository repo(db);
    CHECK_FALSE(repo.practitioner_id("1234567893"));
    repo.remember_practitioner("1234567893", "hc-1", "2026-12-04T19:00:00.000Z");
    CHECK(repo.practitioner_id("1234567893") == std::optional<std::string>("hc-1"));
    repo.remember_practitioner("1234567893", "hc-2", "2026-12-04T19:01:00.000Z");
    CHECK(repo.practitioner_id("1234567893") == std::optional<std::string>("hc-2"));
    repo.forget_practitioner("1234567893");
    CHECK_FALSE(repo.practitioner_id("1234567893"));
}

TEST_CASE("Salesforce pause is stored and cleared", "[daemon][engine]")
{
    auto db = migrated_database();
    bbsync::repository repo(db);
    CHECK_FALSE(repo.salesforce_pause());
    repo.set_salesforce_pause(
        {"2026-12-05T00:00:00.000Z", "salesforce.REQUEST_LIMIT_EXCEEDED", "2026-12-04T19:00:00.000Z"}
    );
    auto pause = repo.salesforce_pause();
    REQUIRE(pause);
    CHECK(pause->paused_until == "2026-12-05T00:00:00.000Z");
    CHECK(pause->reason == "salesforce.REQUEST_LIMIT_EXCEEDED");
    repo.set_salesforce_pause({"2026-12-06T00:00:00.000Z", "salesforce.paused", "2026-12-05T00:00:00.000Z"});
    pause = repo.salesforce_pause();
    REQUIRE(pause);
    CHECK(pause->paused_until == "2026-12-06T00:00:00.000Z");
    repo.clear_salesforce_pause();
    CHECK_FALSE(repo.salesforce_pause());
}

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <string>

#include "sandbox_process.hpp"

namespace {

namespace json = boost::json;
using bbsync::tests::sandbox_process;

const std::string patient_ref = "Patient/001SB0000000000001";
const std::string urn_a = "urn:uuid:0b7c6a1e-1111-4a2b-8c3d-000000000001";
const std::string urn_b = "urn:uuid:0b7c6a1e-1111-4a2b-8c3d-000000000002";

json::object identifier(const std::string& value)
{
    return json::object{{"system", "urn:bbsync:test"}, {"value", value}};
}

json::object encounter(const std::string& id)
{
    return json::object{
        {"resourceType", "Encounter"},
        {"identifier", json::array{identifier(id)}},
        {"status", "finished"},
        {"class", json::object{{"code", "AMB"}}},
        {"subject", json::object{{"reference", patient_ref}}},
    };
}

json::object condition(const std::string& id, const std::string& encounter_reference)
{
    return json::object{
        {"resourceType", "Condition"},
        {"identifier", json::array{identifier(id)}},
        {"code", json::object{{"text", "code"}}},
        {"subject", json::object{{"reference", patient_ref}}},
        {"encounter", json::object{{"reference", encounter_reference}}},
    };
}

json::object entry(
    json::object resource, const std::string& full_url = {}, const std::string& if_none_exist = {}
)
{
    json::object request{{"method", "POST"}, {"url", resource.at("resourceType")}};
    if (!if_none_exist.empty())
        request["ifNoneExist"] = if_none_exist;
    json::object result{{"resource", std::move(resource)}, {"request", std::move(request)}};
    if (!full_url.empty())
        result["fullUrl"] = full_url;
    return result;
}

bbsync::tests::http_result post_bundle(
    const sandbox_process& sandbox,
    const std::string& token,
    const json::value& bundle,
    const std::string& path = "/bundle/fhir-r4/v1/Bundle"
)
{
    return sandbox.request(
        "healthcloud",
        "POST",
        path,
        json::serialize(bundle),
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/fhir+json"}}
    );
}

json::object batch(json::array entries)
{
    return json::object{{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", std::move(entries)}};
}

std::string status_of(const json::value& response, std::size_t i)
{
    return std::string(response.at("entry").at(i).at("response").at("status").as_string());
}

std::string diagnostics_of(const json::value& response, std::size_t i)
{
    return std::string(response.at("entry")
                           .at(i)
                           .at("response")
                           .at("outcome")
                           .at("issue")
                           .at(0)
                           .at("diagnostics")
                           .as_string());
}

}  // namespace

TEST_CASE("bundle stores entries and resolves urn references", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    const auto result = post_bundle(
        sandbox,
        token,
        batch({entry(encounter("e1"), urn_a), entry(condition("c1", urn_a))}),
        "/bundle/fhir-r4/v1/"
    );
    REQUIRE(result.status == 200);
    const auto response = result.json();
    CHECK(response.at("type").as_string() == "batch-response");
    CHECK(status_of(response, 0) == "201 Created");
    CHECK(status_of(response, 1) == "201 Created");
    const std::string location(response.at("entry").at(0).at("response").at("location").as_string());
    CHECK(location.starts_with("Encounter/"));

    // A later bundle may refer to the stored record by its id.
    const auto second = post_bundle(sandbox, token, batch({entry(condition("c2", location))}));
    CHECK(status_of(second.json(), 0) == "201 Created");
}

TEST_CASE("bundle reports each kind of invalid entry", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();

    auto wrong_method = entry(encounter("e2"));
    wrong_method["request"].as_object()["method"] = "PUT";
    auto wrong_url = entry(encounter("e3"));
    wrong_url["request"].as_object()["url"] = "Condition";
    auto no_identifier = encounter("e4");
    no_identifier.erase("identifier");
    auto no_value = encounter("e5");
    no_value["identifier"] = json::array{json::object{{"system", "urn:bbsync:test"}}};
    auto no_status = encounter("e6");
    no_status.erase("status");
    auto no_class = encounter("e7");
    no_class.erase("class");
    auto unknown_patient = encounter("e8");
    unknown_patient["subject"] = json::object{{"reference", "Patient/001SB0000000000099"}};
    auto unknown_record = condition("c3", "Encounter/0eSSB0000000000042");
    json::object observation{{"resourceType", "Observation"}, {"identifier", json::array{identifier("o1")}}};
    json::object procedure{
        {"resourceType", "Procedure"},
        {"identifier", json::array{identifier("p1")}},
        {"status", "completed"},
        {"subject", json::object{{"reference", patient_ref}}}};
    json::object medication{
        {"resourceType", "MedicationRequest"},
        {"identifier", json::array{identifier("m1")}},
        {"status", "active"},
        {"medicationCodeableConcept", json::object{{"text", "x"}}},
        {"subject", json::object{{"reference", patient_ref}}}};
    auto bad_full_url = entry(encounter("e9"), "urn:uuid:not-a-uuid");
    auto bad_condition = entry(encounter("e10"), {}, "identifier=urn:bbsync:test");
    auto mismatched_condition = entry(encounter("e11"), {}, "identifier=urn:bbsync:test|other");
    auto dangling_urn = entry(condition("c4", "urn:uuid:0b7c6a1e-1111-4a2b-8c3d-0000000000ff"));

    const std::vector<std::pair<json::object, std::string>> cases{
        {wrong_method, "request.method must be POST"},
        {wrong_url, "request.url does not match the resource type"},
        {entry(no_identifier), "identifier is missing"},
        {entry(no_value), "identifier[0] needs a system and a value"},
        {entry(no_status), "Encounter.status is required"},
        {entry(no_class), "Encounter.class is required"},
        {entry(unknown_patient), "reference does not resolve to a known Patient"},
        {entry(unknown_record), "reference does not resolve to a known Encounter"},
        {entry(observation), "unsupported resource type"},
        {entry(procedure), "Procedure.code is required"},
        {entry(medication), "MedicationRequest.intent is required"},
        {bad_full_url, "fullUrl must be urn:uuid:<uuid>"},
        {bad_condition, "ifNoneExist is not identifier=<system>|<value>"},
        {mismatched_condition, "ifNoneExist does not match identifier[0]"},
        {dangling_urn, "urn:uuid reference to no entry of this Bundle"},
    };
    json::array entries;
    for (const auto& [bad_entry, reason] : cases)
        entries.push_back(bad_entry);
    const auto result = post_bundle(sandbox, token, batch(entries));
    REQUIRE(result.status == 200);
    const auto response = result.json();
    for (std::size_t i = 0; i < cases.size(); ++i)
    {
        INFO(cases[i].second);
        CHECK(status_of(response, i) == "400 Bad Request");
        CHECK(diagnostics_of(response, i) == cases[i].second);
    }
    const auto state = sandbox.state();
    CHECK(state.at("rejected_total").as_int64() == static_cast<std::int64_t>(cases.size()));
}

TEST_CASE("bundle rejects non-batch, oversized and unauthenticated requests", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();

    auto transaction = batch({entry(encounter("e1"))});
    transaction["type"] = "transaction";
    const auto not_batch = post_bundle(sandbox, token, transaction);
    CHECK(not_batch.status == 400);
    CHECK(not_batch.json().at("resourceType").as_string() == "OperationOutcome");

    json::array many;
    for (int i = 0; i < 31; ++i)
        many.push_back(entry(encounter("bulk-" + std::to_string(i))));
    const auto too_many = post_bundle(sandbox, token, batch(many));
    CHECK(too_many.status == 400);
    CHECK(
        too_many.json().at("issue").at(0).at("diagnostics").as_string() ==
        "a batch Bundle may have at most 30 entries"
    );
    many.pop_back();
    CHECK(post_bundle(sandbox, token, batch(many), "/bundle/fhir-r4/v1").status == 200);

    const auto no_session = post_bundle(sandbox, "stale", batch({entry(encounter("e1"))}));
    CHECK(no_session.status == 401);
    CHECK(
        no_session.body == R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])"
    );

    // A payer access token sent here is counted as foreign.
    const auto payer_token = sandbox.payer_access_token(0);
    CHECK(post_bundle(sandbox, payer_token, batch({entry(encounter("e1"))})).status == 401);
    const auto state = sandbox.state();
    for (const auto& item : state.at("foreign_authorization").as_array())
    {
        if (item.at("host").as_string() == "healthcloud")
            CHECK(item.at("count").as_int64() == 1);
    }
}

TEST_CASE("ifNoneExist matches while a plain repeat is a duplicate", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    const std::string condition_text = "identifier=urn:bbsync:test|e1";

    const auto first =
        post_bundle(sandbox, token, batch({entry(encounter("e1"), {}, condition_text)})).json();
    CHECK(status_of(first, 0) == "201 Created");
    const auto again =
        post_bundle(
            sandbox, token, batch({entry(encounter("e1"), {}, "identifier=urn%3Abbsync%3Atest%7Ce1")})
        )
            .json();
    CHECK(status_of(again, 0) == "200 OK");
    CHECK(
        again.at("entry").at(0).at("response").at("location") ==
        first.at("entry").at(0).at("response").at("location")
    );

    const auto plain = post_bundle(sandbox, token, batch({entry(encounter("e1"))})).json();
    CHECK(status_of(plain, 0) == "201 Created");

    const auto state = sandbox.state();
    CHECK(state.at("records").at("Encounter").as_int64() == 2);
    CHECK(state.at("duplicates").at("Encounter").as_int64() == 1);
    CHECK(state.at("duplicates_total").as_int64() == 1);
}

TEST_CASE("overlapping creates of one identifier are counted", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    // Each bundle stays in progress for a second, so two sent together overlap.
    const auto faults = sandbox.request(
        "healthcloud",
        "POST",
        "/_sandbox/faults",
        R"({"faults":["healthcloud:/bundle/fhir-r4/v1/Bundle:all:latency=1000"]})"
    );
    REQUIRE(faults.status == 200);

    const auto shared = batch({entry(encounter("e1"), {}, "identifier=urn:bbsync:test|e1")});
    auto first = std::async(std::launch::async, [&] { return post_bundle(sandbox, token, shared).status; });
    auto second = std::async(std::launch::async, [&] { return post_bundle(sandbox, token, shared).status; });
    CHECK(first.get() == 200);
    CHECK(second.get() == 200);
    CHECK(sandbox.state().at("overlapping_conditional_creates").as_int64() == 1);

    // The same create once more, alone, and a different one beside it overlap nothing.
    auto alone = std::async(std::launch::async, [&] { return post_bundle(sandbox, token, shared).status; });
    const auto other = batch({entry(encounter("e2"), {}, "identifier=urn:bbsync:test|e2")});
    CHECK(post_bundle(sandbox, token, other).status == 200);
    CHECK(alone.get() == 200);
    const auto state = sandbox.state();
    CHECK(state.at("overlapping_conditional_creates").as_int64() == 1);
    CHECK(state.at("records").at("Encounter").as_int64() == 2);
    CHECK(state.at("duplicates_total").as_int64() == 0);
}

TEST_CASE("entries depending on a failed entry get 424", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = sandbox.salesforce_token();
    auto broken = encounter("e1");
    broken.erase("status");
    json::object practitioner{
        {"resourceType", "Practitioner"},
        {"identifier",
         json::array{json::object{{"system", "http://hl7.org/fhir/sid/us-npi"}, {"value", "1234567890"}}}}};
    // The dependent comes first: order in the bundle does not matter.
    const auto response = post_bundle(
                              sandbox,
                              token,
                              batch(
                                  {entry(condition("c1", urn_a)),
                                   entry(broken, urn_a),
                                   entry(practitioner, urn_b),
                                   entry(condition("c2", urn_a), {}, {})}
                              )
    )
                              .json();
    CHECK(status_of(response, 0) == "424 Failed Dependency");
    CHECK(status_of(response, 1) == "400 Bad Request");
    CHECK(status_of(response, 2) == "201 Created");
    CHECK(status_of(response, 3) == "424 Failed Dependency");
    CHECK(diagnostics_of(response, 0) == "depends on entry " + urn_a + ", which failed");
}

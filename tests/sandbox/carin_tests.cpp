#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sandbox_process.hpp"

namespace {

namespace json = boost::json;
using bbsync::tests::http_result;
using bbsync::tests::sandbox_process;

// Returns the path and query of an absolute URL on the payer port.
std::string payer_target(const sandbox_process& sandbox, const std::string& url)
{
    const std::string origin = "https://127.0.0.1:" + std::to_string(sandbox.port("payer"));
    REQUIRE(url.starts_with(origin + "/"));
    return url.substr(origin.size());
}

std::string link_url(const json::object& bundle, const std::string& relation)
{
    for (const auto& link : bundle.at("link").as_array())
    {
        if (link.at("relation").as_string() == relation)
            return std::string(link.at("url").as_string());
    }
    return {};
}

// Follows next links from a first search and returns every EOB resource in order.
std::vector<json::object> walk_eobs(
    sandbox_process& sandbox, const std::string& token, const std::string& first
)
{
    std::vector<json::object> eobs;
    std::string target = first;
    for (int pages = 0; !target.empty(); ++pages)
    {
        REQUIRE(pages < 1000);
        const auto page = sandbox.get_with_token("payer", target, token);
        REQUIRE(page.status == 200);
        const auto bundle = page.json().as_object();
        CHECK_FALSE(bundle.contains("total"));
        CHECK(link_url(bundle, "previous").empty());
        CHECK(link_url(bundle, "last").empty());
        CHECK(link_url(bundle, "first").empty());
        CHECK_FALSE(link_url(bundle, "self").empty());
        if (const auto* entries = bundle.if_contains("entry"))
        {
            for (const auto& entry : entries->as_array())
                eobs.push_back(entry.at("resource").as_object());
        }
        const auto next = link_url(bundle, "next");
        if (!next.empty())
        {
            CHECK(next.find("_getpages=") != std::string::npos);
            CHECK(next.find("startIndex") == std::string::npos);
        }
        target = next.empty() ? std::string() : payer_target(sandbox, next);
    }
    return eobs;
}

std::string patient_id(const sandbox_process& sandbox, std::size_t index)
{
    return std::string(sandbox.patients().at(index).at("payer_patient_id").as_string());
}

// Collects every "reference" string of a document.
void collect_references(const json::value& value, std::set<std::string>& out)
{
    if (const auto* object = value.if_object())
    {
        for (const auto& member : *object)
        {
            if (member.key() == "reference" && member.value().is_string())
                out.emplace(member.value().get_string());
            else
                collect_references(member.value(), out);
        }
    }
    else if (const auto* array = value.if_array())
    {
        for (const auto& element : *array)
            collect_references(element, out);
    }
}

}  // namespace

TEST_CASE("CARIN paging walk reaches every EOB once", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "2", "--eobs-per-patient", "23", "--mode", "carin"});
    CHECK(sandbox.ready().at("mode").as_string() == "carin");
    const auto token = sandbox.payer_access_token(0);
    for (const int count : {1, 7, 50})
    {
        INFO("_count=" << count);
        const auto eobs = walk_eobs(
            sandbox,
            token,
            "/v2/fhir/ExplanationOfBenefit?patient=" + patient_id(sandbox, 0) +
                "&_count=" + std::to_string(count)
        );
        std::set<std::string> ids;
        for (const auto& eob : eobs)
            ids.emplace(eob.at("id").as_string());
        CHECK(eobs.size() == 23);
        CHECK(ids.size() == 23);
    }
}

TEST_CASE("CARIN paging rejects startIndex", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "5", "--mode", "carin"});
    const auto token = sandbox.payer_access_token(0);
    const auto result = sandbox.get_with_token("payer", "/v2/fhir/ExplanationOfBenefit?startIndex=2", token);
    CHECK(result.status == 400);
    CHECK(result.json().at("resourceType").as_string() == "OperationOutcome");

    const auto unknown = sandbox.get_with_token(
        "payer", "/v2/fhir/ExplanationOfBenefit?_getpages=nope&_getpagesoffset=1&_count=1", token
    );
    CHECK(unknown.status == 410);
}

TEST_CASE("CARIN next link keeps the first result set", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "6", "--mode", "carin"});
    const auto token = sandbox.payer_access_token(0);
    const auto first = sandbox.get_with_token("payer", "/v2/fhir/ExplanationOfBenefit?_count=3", token);
    REQUIRE(first.status == 200);
    const auto next = link_url(first.json().as_object(), "next");
    REQUIRE_FALSE(next.empty());

    // EOBs added mid-walk show up in the next search, not in this walk.
    REQUIRE(sandbox.request("payer", "POST", "/_sandbox/eobs?per_patient=4").status == 200);
    const auto rest = walk_eobs(sandbox, token, payer_target(sandbox, next));
    CHECK(rest.size() == 3);
    CHECK(walk_eobs(sandbox, token, "/v2/fhir/ExplanationOfBenefit?_count=50").size() == 10);
}

TEST_CASE("CARIN _lastUpdated finds added EOBs", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "8", "--mode", "carin"});
    const auto token = sandbox.payer_access_token(0);
    const auto before = walk_eobs(sandbox, token, "/v2/fhir/ExplanationOfBenefit?_count=50");
    REQUIRE(before.size() == 8);
    std::string latest;
    for (const auto& eob : before)
        latest = std::max(latest, std::string(eob.at("meta").at("lastUpdated").as_string()));

    REQUIRE(sandbox.request("payer", "POST", "/_sandbox/eobs?per_patient=3").status == 200);
    const auto added = walk_eobs(
        sandbox,
        token,
        "/v2/fhir/ExplanationOfBenefit?_count=2&_lastUpdated=gt" + bbsync::tests::form_encode(latest)
    );
    CHECK(added.size() == 3);
    CHECK(walk_eobs(sandbox, token, "/v2/fhir/ExplanationOfBenefit?_count=50").size() == 11);
}

TEST_CASE("CARIN EOBs vary over the C4BB examples", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "80", "--mode", "carin"});
    const auto token = sandbox.payer_access_token(0);
    const auto eobs = walk_eobs(sandbox, token, "/v2/fhir/ExplanationOfBenefit?_count=50");
    REQUIRE(eobs.size() == 80);

    std::set<std::string> kinds;
    bool dotted_diagnosis = false;
    std::set<std::string> last_updated;
    for (const auto& eob : eobs)
    {
        const std::string type(eob.at("type").at("coding").at(0).at("code").as_string());
        std::string kind = type;
        if (const auto* sub_type = eob.if_contains("subType"))
            kind += "/" + std::string(sub_type->at("coding").at(0).at("code").as_string());
        kinds.insert(kind);
        CHECK_FALSE(eob.contains("contained"));
        CHECK_FALSE(eob.contains("text"));
        last_updated.emplace(eob.at("meta").at("lastUpdated").as_string());
        if (const auto* diagnoses = eob.if_contains("diagnosis"))
        {
            for (const auto& diagnosis : diagnoses->as_array())
            {
                const auto& code = diagnosis.at("diagnosisCodeableConcept").at("coding").at(0).at("code");
                dotted_diagnosis = dotted_diagnosis || code.as_string().find('.') != json::string::npos;
            }
        }
    }
    const std::set<std::string> expected{
        "institutional/inpatient", "institutional/outpatient", "professional", "vision", "pharmacy", "oral"};
    CHECK(kinds == expected);
    CHECK(dotted_diagnosis);
    CHECK(last_updated.size() > 70);

    const auto pharmacy = walk_eobs(sandbox, token, "/v2/fhir/ExplanationOfBenefit?type=pharmacy&_count=50");
    REQUIRE_FALSE(pharmacy.empty());
    for (const auto& eob : pharmacy)
        CHECK(eob.at("type").at("coding").at(0).at("code").as_string() == "pharmacy");
    CHECK(sandbox.get_with_token("payer", "/v2/fhir/ExplanationOfBenefit?type=carrier", token).status == 400);
}

TEST_CASE("CARIN Coverage needs patient not beneficiary", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1", "--mode", "carin"});
    const auto token = sandbox.payer_access_token(0);
    const auto id = patient_id(sandbox, 0);
    const auto by_patient = sandbox.get_with_token("payer", "/v2/fhir/Coverage?patient=" + id, token);
    REQUIRE(by_patient.status == 200);
    const auto bundle = by_patient.json().as_object();
    CHECK(bundle.at("entry").as_array().size() == 4);
    CHECK_FALSE(bundle.contains("total"));

    const auto by_beneficiary = sandbox.get_with_token("payer", "/v2/fhir/Coverage?beneficiary=" + id, token);
    CHECK(by_beneficiary.status == 400);
    CHECK(by_beneficiary.json().at("resourceType").as_string() == "OperationOutcome");
    CHECK(sandbox.get_with_token("payer", "/v2/fhir/Coverage", token).status == 400);
}

TEST_CASE("CARIN Practitioner and Organization reads", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1", "--mode", "carin"});
    const auto token = sandbox.payer_access_token(0);
    const auto practitioner = sandbox.get_with_token("payer", "/v2/fhir/Practitioner/Practitioner1", token);
    REQUIRE(practitioner.status == 200);
    CHECK(practitioner.json().at("resourceType").as_string() == "Practitioner");
    CHECK(practitioner.json().at("id").as_string() == "Practitioner1");
    const auto organization = sandbox.get_with_token("payer", "/v2/fhir/Organization/Payer1", token);
    REQUIRE(organization.status == 200);
    CHECK(organization.json().at("resourceType").as_string() == "Organization");

    const auto unknown = sandbox.get_with_token("payer", "/v2/fhir/Practitioner/Nobody", token);
    CHECK(unknown.status == 404);
    CHECK(unknown.json().at("issue").at(0).at("code").as_string() == "not-found");
    CHECK(sandbox.get_with_token("payer", "/v2/fhir/Organization/Payer1", "not-a-token").status == 401);
}

TEST_CASE("CARIN EOB references all resolve", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "40", "--mode", "carin"});
    const auto token = sandbox.payer_access_token(0);
    const auto id = patient_id(sandbox, 0);
    std::set<std::string> references;
    for (const auto& eob : walk_eobs(sandbox, token, "/v2/fhir/ExplanationOfBenefit?_count=50"))
    {
        collect_references(eob, references);
        CHECK(eob.at("patient").at("reference").as_string() == "Patient/" + id);
        const auto read = sandbox.get_with_token(
            "payer", "/v2/fhir/ExplanationOfBenefit/" + std::string(eob.at("id").as_string()), token
        );
        CHECK(read.status == 200);
    }

    std::set<std::string> coverages;
    const auto coverage_bundle =
        sandbox.get_with_token("payer", "/v2/fhir/Coverage?patient=" + id, token).json();
    for (const auto& entry : coverage_bundle.at("entry").as_array())
        coverages.insert("Coverage/" + std::string(entry.at("resource").at("id").as_string()));

    std::set<std::string> kinds;
    for (const auto& reference : references)
    {
        INFO(reference);
        kinds.insert(reference.substr(0, reference.find('/')));
        if (reference.starts_with("Coverage/"))
            CHECK(coverages.contains(reference));
        else
            CHECK(sandbox.get_with_token("payer", "/v2/fhir/" + reference, token).status == 200);
    }
    CHECK(kinds == std::set<std::string>{"Coverage", "Organization", "Patient", "Practitioner"});
}

TEST_CASE("CARIN metadata instantiates C4BB", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1", "--mode", "carin"});
    const auto result = sandbox.request("payer", "GET", "/v2/fhir/metadata");
    REQUIRE(result.status == 200);
    const auto statement = result.json().as_object();
    CHECK(
        statement.at("instantiates").at(0).as_string() ==
        "http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb|2.0.0"
    );
    std::set<std::string> types;
    for (const auto& resource : statement.at("rest").at(0).at("resource").as_array())
        types.emplace(resource.at("type").as_string());
    CHECK(types.contains("Practitioner"));
    CHECK(types.contains("Organization"));
}

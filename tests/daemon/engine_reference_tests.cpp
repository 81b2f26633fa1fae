#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "daemon/mapping/eob_mapper.hpp"

namespace {

namespace json = boost::json;

const std::filesystem::path carin_examples =
    std::filesystem::path(BBSYNC_FIXTURES_DIR) / "carin-bb" / "ig-2.0.0-examples";

json::object load_example(const std::string& name)
{
    std::ifstream in(carin_examples / name);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return json::parse(text.str()).as_object();
}

std::size_t count_type(const bbsync::mapping::eob_mapping& mapping, const std::string& type)
{
    std::size_t count = 0;
    for (const auto& resource : mapping.resources)
    {
        count += resource.resource_type == type ? 1 : 0;
    }
    return count;
}

bool skipped_for(const bbsync::mapping::eob_mapping& mapping, const std::string& reason)
{
    for (const auto& skip : mapping.skipped)
    {
        if (skip.reason == reason)
        {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("referenced Practitioner is mapped instead of skipped", "[daemon][engine]")
{
    const auto eob = load_example("ExplanationOfBenefit-EOBProfessional2.json");
    bbsync::mapping::mapping_context context{"001SB0000000000001", "CMS"};

    // Without the read resources the literal careTeam reference cannot be resolved.
    const auto without = bbsync::mapping::map_eob(eob, context);
    REQUIRE(without.has_value());
    CHECK(count_type(*without, "Practitioner") == 0);
    CHECK(skipped_for(*without, "careTeam provider reference is not contained and carries no NPI"));

    // The example's NPI 6667778880 fails the check digit, so a valid one replaces it.
    auto practitioner = load_example("Practitioner-Practitioner1.json");
    practitioner["identifier"].as_array()[0].as_object()["value"] = "1234567893";
    std::map<std::string, json::object, std::less<>> referenced{
        {"Practitioner/Practitioner1", practitioner},
        {"Organization/ProviderOrganization1", load_example("Organization-ProviderOrganization1.json")},
    };
    context.referenced_resources = &referenced;
    const auto with = bbsync::mapping::map_eob(eob, context);
    REQUIRE(with.has_value());
    CHECK_FALSE(skipped_for(*with, "careTeam provider reference is not contained and carries no NPI"));
    REQUIRE(count_type(*with, "Practitioner") == 1);
    for (const auto& resource : with->resources)
    {
        if (resource.resource_type == "Practitioner")
        {
            CHECK(resource.identifier_system == "http://hl7.org/fhir/sid/us-npi");
            CHECK(resource.identifier_value == "1234567893");
        }
    }
}

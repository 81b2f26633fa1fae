#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "../integration/child_process.hpp"
#include "reliability_fleet.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace bbsync::reliability_tests;

// A value that must not leave the payer or the configuration, with a label that names it
// without showing it.
struct canary
{
    std::string label;
    std::string text;
};

// A place bbsync writes to, with its content.
struct sink
{
    std::string name;
    std::string text;
};

// GETs a payer FHIR target with an access token, the header going through a private file so
// the token never appears on a command line. Returns the body.
std::string payer_get(
    const reliability_fleet& fleet, const std::string& target, const std::string& access_token
)
{
    const auto& ready = fleet.sandbox.ready();
    const auto& payer = ready.at("payer").as_object();
    const auto url = "https://" + std::string(payer.at("host").as_string()) + ":" +
                     std::to_string(payer.at("port").to_number<int>()) + target;
    const auto header = fleet.root() / "phi-header";
    bbsync::integration_tests::write_private_file(header, "Authorization: Bearer " + access_token + "\n");
    bbsync::integration_tests::process_spec spec;
    spec.arguments = {
        "/usr/bin/curl",
        "--silent",
        "--show-error",
        "--fail",
        "--noproxy",
        "*",
        "--compressed",
        "--cacert",
        std::string(ready.at("ca_file").as_string()),
        "--header",
        "@" + header.string(),
        url,
    };
    spec.stdout_path = fleet.root() / "phi-body";
    spec.timeout = std::chrono::seconds(15);
    const auto result = bbsync::integration_tests::run_process(spec);
    fs::remove(header);
    REQUIRE(result.exit_code == 0);
    return result.output;
}

// Takes a new consent for patient `index` (which spends the tokens bbsync holds) and reads
// the patient's name, MBI, birth date and one claim amount from the payer.
std::vector<canary> patient_canaries(reliability_fleet& fleet, std::size_t index)
{
    const auto payer_id = fleet.payer_id(index);
    const auto consent = fleet.sandbox.post_form("payer", "/_sandbox/consent?patient=" + payer_id, "");
    REQUIRE(consent.status == 200);
    const auto refreshed = fleet.sandbox.refresh_payer_token(text_at(consent.json(), "refresh_token"));
    REQUIRE(refreshed.status == 200);
    const auto access_token = text_at(refreshed.json(), "access_token");

    std::vector<canary> found;
    const auto label = "patient " + std::to_string(index);
    const auto patient = json::parse(payer_get(fleet, "/v2/fhir/Patient/" + payer_id, access_token));
    const auto& name = patient.at("name").as_array().at(0);
    found.push_back({label + " family name", text_at(name, "family")});
    found.push_back({label + " given name", std::string(name.at("given").as_array().at(0).as_string())});
    found.push_back({label + " birth date", text_at(patient, "birthDate")});
    for (const auto& identifier : patient.at("identifier").as_array())
    {
        if (text_at(identifier, "system") == "http://hl7.org/fhir/sid/us-mbi")
        {
            found.push_back({label + " MBI", text_at(identifier, "value")});
        }
    }

    // A money amount as the payer's JSON text writes it, with two decimals. Amounts under
    // 100 are skipped because short numbers also occur in timings and counts.
    const auto eobs =
        payer_get(fleet, "/v2/fhir/ExplanationOfBenefit?patient=" + payer_id + "&_count=5", access_token);
    const std::regex amount(R"re("value"\s*:\s*([1-9][0-9]{2,}\.[0-9]{2})\b)re");
    std::smatch match;
    if (std::regex_search(eobs, match, amount))
    {
        found.push_back({label + " claim amount", match[1].str()});
    }
    return found;
}

// Returns whether `text` contains `word` with no letter or digit right before or after it,
// so that a short name such as "Ana" does not match inside "Analysis".
bool contains_word(const std::string& text, const std::string& word)
{
    const auto is_word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1))
    {
        const bool starts = at == 0 || !is_word_char(text[at - 1]);
        const auto end = at + word.size();
        const bool ends = end == text.size() || !is_word_char(text[end]);
        if (starts && ends)
        {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("no PHI or secret leaves through logs or job records", "[reliability][phi]")
{
    constexpr int patients = 20;
    reliability_fleet fleet("phi-scan", patients, 6, 3);
    fleet.set_faults({
        "payer:/v2/fhir/ExplanationOfBenefit:p=0.10:status=503",
        "payer:/v2/fhir/ExplanationOfBenefit:p=0.05:malformed_json",
        "payer:/v2/fhir/Patient:p=0.10:status=502",
        "payer:/v2/o/token/:p=0.10:status=503",
        "healthcloud:/bundle/fhir-r4/v1/Bundle:p=0.10:entry_400",
        "healthcloud:/bundle/fhir-r4/v1/Bundle:p=0.05:status=503",
        "salesforce:/services/data:p=0.10:status=503",
    });
    const auto faulty = fleet.run({"run", "--once"});
    INFO("faulty run standard error: " << faulty.stderr_path);
    CHECK((faulty.exit_code == 0 || faulty.exit_code == 1));
    fleet.set_faults({});
    fleet.workspace.make_all_patients_due();
    CHECK(fleet.run({"run", "--once"}).exit_code == 0);
    CHECK(fleet.workspace.run({"patient", "list"}).exit_code == 0);

    // What bbsync wrote, collected before the canary look-ups spend the patients' tokens.
    std::vector<sink> sinks;
    for (const auto& file : fleet.log_files())
    {
        sinks.push_back({file.string(), read_file(file)});
    }
    sinks.push_back({"sqlite3 .dump sync_jobs", fleet.sql(".dump sync_jobs")});
    sinks.push_back({"sqlite3 .dump mirror_outbox", fleet.sql(".dump mirror_outbox")});
    const auto mirrored = fleet.sandbox.get("salesforce", "/_sandbox/jobs");
    REQUIRE(mirrored.status == 200);
    CHECK(mirrored.json().at("jobs").as_array().size() >= static_cast<std::size_t>(patients));
    sinks.push_back({"PatientSyncJob__c records in the sandbox", mirrored.body});

    std::vector<canary> canaries;
    for (const char* key : {"payer_client_secret", "sf_client_secret"})
    {
        canaries.push_back({std::string("the sandbox's ") + key, text_at(fleet.sandbox.ready(), key)});
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(patients); ++i)
    {
        canaries.push_back(
            {"original refresh token of patient " + std::to_string(i),
             fleet.sandbox.original_refresh_token(i)}
        );
    }
    std::istringstream stored(fleet.sql("SELECT refresh_token FROM patients WHERE refresh_token IS NOT NULL")
    );
    int stored_count = 0;
    for (std::string line; std::getline(stored, line);)
    {
        canaries.push_back({"stored refresh token " + std::to_string(++stored_count), line});
    }
    CHECK(stored_count == patients);
    for (std::size_t i = 0; i < 3; ++i)
    {
        const auto found = patient_canaries(fleet, i);
        CHECK(found.size() == 5);
        canaries.insert(canaries.end(), found.begin(), found.end());
    }
    for (const auto& item : canaries)
    {
        INFO(item.label);
        REQUIRE(item.text.size() >= 3);
    }

    // The scan would pass on empty sinks, so the logs must hold a debug-level run.
    std::size_t log_bytes = 0;
    for (const auto& place : sinks)
    {
        log_bytes += place.text.size();
    }
    CHECK(log_bytes > 10'000);

    std::vector<std::string> findings;
    for (const auto& place : sinks)
    {
        for (const auto& item : canaries)
        {
            if (contains_word(place.text, item.text))
            {
                findings.push_back(place.name + " contains " + item.label);
            }
        }
    }
    for (const auto& finding : findings)
    {
        UNSCOPED_INFO(finding);
    }
    CHECK(findings.empty());
}

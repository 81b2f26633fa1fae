#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "../integration/bbsync_workspace.hpp"
#include "../integration/child_process.hpp"
#include "../integration/sandbox_server.hpp"
#include "../integration/temporary_directory.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using bbsync::integration_tests::bbsync_workspace;
using bbsync::integration_tests::read_text_file;
using bbsync::integration_tests::sandbox_server;
using bbsync::integration_tests::temporary_directory;

// One fault per route, each on a different failure path: payer throttling, a reset body, a
// broken JSON body, a failed token refresh, an expired Health Cloud session, a Health Cloud
// outage and a Salesforce outage during the job mirror.
const std::string eob_429 = "payer:/v2/fhir/ExplanationOfBenefit:first=2:status=429:retry_after=1";
const std::string coverage_reset = "payer:/v2/fhir/Coverage:first=1:reset";
const std::string patient_malformed = "payer:/v2/fhir/Patient:first=1:malformed_json";
const std::string token_503 = "payer:/v2/o/token/:first=1:status=503";
const std::string bundle_session = "healthcloud:/bundle/fhir-r4/v1:first=1:invalid_session";
const std::string bundle_503 = "healthcloud:/bundle/fhir-r4/v1/Bundle:every=4:status=503";
const std::string mirror_503 = "salesforce:/services/data:first=1:status=503";

std::string text_at(const json::value& object, const char* key)
{
    const auto* value = object.as_object().if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// Returns how often the active fault `spec` was applied, or -1 when it is not active.
std::int64_t times_applied(const json::object& state, const std::string& spec)
{
    for (const auto& fault : state.at("faults").as_array())
    {
        if (text_at(fault, "spec") == spec)
        {
            return fault.at("applied").to_number<std::int64_t>();
        }
    }
    return -1;
}

std::vector<std::string> log_lines(const std::vector<fs::path>& files)
{
    std::vector<std::string> lines;
    for (const auto& file : files)
    {
        std::istringstream in(read_text_file(file));
        std::string line;
        while (std::getline(in, line))
        {
            lines.push_back(line);
        }
    }
    return lines;
}

// Counts the lines that contain `text`, plus the messages that a "suppressed K similar
// messages" line reports for a template containing `text`.
std::int64_t count_lines(const std::vector<std::string>& lines, const std::string& text)
{
    const std::regex suppressed("suppressed ([0-9]+) similar messages");
    std::int64_t count = 0;
    for (const auto& line : lines)
    {
        if (line.find(text) == std::string::npos)
        {
            continue;
        }
        std::smatch match;
        count += std::regex_search(line, match, suppressed) ? std::stoll(match[1].str()) : 1;
    }
    return count;
}

// A secret or PHI value the logs must not contain, with a label that names it without
// showing it.
struct forbidden_text
{
    std::string label;
    std::string text;
    // Names are short, so they match only as whole words ("Doe" but not "Does").
    bool whole_word = false;
};

bool is_word_character(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

bool line_contains(const std::string& line, const forbidden_text& item)
{
    for (auto at = line.find(item.text); at != std::string::npos; at = line.find(item.text, at + 1))
    {
        const auto end = at + item.text.size();
        const bool starts_word = at == 0 || !is_word_character(line[at - 1]);
        const bool ends_word = end == line.size() || !is_word_character(line[end]);
        if (!item.whole_word || (starts_word && ends_word))
        {
            return true;
        }
    }
    return false;
}

// Sends GET `target` to the payer with the access token in a header file, so that the token
// is on no command line. Returns the parsed body. Throws std::runtime_error when curl fails.
json::value payer_get(
    const sandbox_server& sandbox,
    const fs::path& scratch,
    const std::string& access_token,
    const std::string& target
)
{
    const auto headers = scratch / "auth.header";
    bbsync::integration_tests::write_private_file(headers, "Authorization: Bearer " + access_token + "\n");
    const auto& payer = sandbox.ready().at("payer").as_object();
    bbsync::integration_tests::process_spec spec;
    spec.arguments = {
        "/usr/bin/curl",
        "--silent",
        "--show-error",
        "--fail",
        "--noproxy",
        "*",
        "--cacert",
        std::string(sandbox.ready().at("ca_file").as_string()),
        "--header",
        "@" + headers.string(),
        "https://" + std::string(payer.at("host").as_string()) + ":" +
            std::to_string(payer.at("port").to_number<int>()) + target,
    };
    spec.stdout_path = scratch / "payer_get.body";
    spec.stderr_path = scratch / "payer_get.stderr";
    spec.timeout = std::chrono::seconds(30);
    const auto result = bbsync::integration_tests::run_process(spec);
    if (result.exit_code != 0)
    {
        throw std::runtime_error("curl failed for " + target + ": " + read_text_file(spec.stderr_path));
    }
    return json::parse(read_text_file(spec.stdout_path));
}

// Adds the patient's name, birth date and MBI to `forbidden`.
void add_patient_phi(const json::value& patient, std::vector<forbidden_text>& forbidden)
{
    const auto& object = patient.as_object();
    for (const auto& name : object.at("name").as_array())
    {
        forbidden.push_back({"the patient's family name", text_at(name, "family"), true});
        for (const auto& given : name.at("given").as_array())
        {
            // A one-letter middle initial would match any single capital letter.
            if (given.as_string().size() >= 3)
            {
                forbidden.push_back({"the patient's given name", std::string(given.as_string()), true});
            }
        }
    }
    forbidden.push_back({"the patient's birth date", text_at(patient, "birthDate")});
    for (const auto& identifier : object.at("identifier").as_array())
    {
        if (text_at(identifier, "system") == "http://hl7.org/fhir/sid/us-mbi")
        {
            forbidden.push_back({"the patient's MBI", text_at(identifier, "value")});
        }
    }
}

// Adds claim identifiers and diagnosis texts of every EOB in the search Bundle to `forbidden`.
void add_claim_content(const json::value& bundle, std::vector<forbidden_text>& forbidden)
{
    const auto* entries = bundle.as_object().if_contains("entry");
    REQUIRE(entries != nullptr);
    for (const auto& entry : entries->as_array())
    {
        const auto& eob = entry.at("resource");
        for (const auto& identifier : eob.at("identifier").as_array())
        {
            const auto value = text_at(identifier, "value");
            if (value.size() >= 8)
            {
                forbidden.push_back({"a claim identifier", value});
            }
        }
        const auto* diagnoses = eob.as_object().if_contains("diagnosis");
        for (std::size_t i = 0; diagnoses != nullptr && i < diagnoses->as_array().size(); ++i)
        {
            const auto* codeable_concept =
                diagnoses->as_array()[i].as_object().if_contains("diagnosisCodeableConcept");
            const auto* codings =
                codeable_concept != nullptr ? codeable_concept->as_object().if_contains("coding") : nullptr;
            for (std::size_t j = 0; codings != nullptr && j < codings->as_array().size(); ++j)
            {
                const auto display = text_at(codings->as_array()[j], "display");
                if (display.size() >= 8)
                {
                    forbidden.push_back({"a diagnosis text", display});
                }
            }
        }
    }
}

}  // namespace

TEST_CASE("faulted sync logs every retry and leaks nothing", "[api]")
{
    temporary_directory directory("bbsync-fault-log");
    sandbox_server sandbox(directory.path(), 3, 12);
    bbsync_workspace workspace(directory.path() / "bbsync", sandbox, "info");
    workspace.append_config("bluebuttonapi.eobEndpoint.count = 5\n"
                            "http.readTimeout = 2\n"
                            "http.requestTimeout = 5\n");
    std::vector<forbidden_text> forbidden = {
        {"the word Bearer", "Bearer"},
        {"a refresh_token= form field", "refresh_token="},
        {"the sandbox's payer client secret", text_at(sandbox.ready(), "payer_client_secret")},
        {"the sandbox's Salesforce client secret", text_at(sandbox.ready(), "sf_client_secret")},
    };

    // Step 1: read the first patient's PHI and claims with a token of our own. That spends
    // the patient's original refresh token, so the patient is registered with the rotated one.
    const auto refreshed = sandbox.refresh_payer_token(sandbox.original_refresh_token(0));
    REQUIRE(refreshed.status == 200);
    const auto tokens = refreshed.json();
    const auto access_token = text_at(tokens, "access_token");
    forbidden.push_back({"the access token issued to the test", access_token});
    forbidden.push_back({"the refresh token issued to the test", text_at(tokens, "refresh_token")});
    const auto payer_id = text_at(sandbox.patients().at(0), "payer_patient_id");
    add_patient_phi(
        payer_get(sandbox, directory.path(), access_token, "/v2/fhir/Patient/" + payer_id), forbidden
    );
    add_claim_content(
        payer_get(
            sandbox, directory.path(), access_token, "/v2/fhir/ExplanationOfBenefit?patient=" + payer_id
        ),
        forbidden
    );
    for (std::size_t i = 0; i < sandbox.patients().size(); ++i)
    {
        const auto& patient = sandbox.patients().at(i);
        const auto refresh_token =
            i == 0 ? text_at(tokens, "refresh_token") : sandbox.original_refresh_token(i);
        forbidden.push_back(
            {"the original refresh token of patient " + std::to_string(i), sandbox.original_refresh_token(i)}
        );
        const auto added = workspace.add_patient(
            text_at(patient, "sf_patient_id"), text_at(patient, "payer_patient_id"), refresh_token
        );
        REQUIRE(added.exit_code == 0);
    }

    // Step 2: sync with every fault active.
    const std::vector<std::string> specs = {
        eob_429, coverage_reset, patient_malformed, token_503, bundle_session, bundle_503, mirror_503};
    json::array list;
    for (const auto& spec : specs)
    {
        list.emplace_back(spec);
    }
    const auto set =
        sandbox.post_form("payer", "/_sandbox/faults", json::serialize(json::object{{"faults", list}}));
    INFO("POST /_sandbox/faults returned " << set.body);
    REQUIRE(set.status == 200);
    const auto run = workspace.run({"run", "--once"}, {}, std::chrono::seconds(120));
    INFO("run --once standard error: " << run.stderr_path);
    CHECK((run.exit_code == 0 || run.exit_code == 1));
    const auto state = sandbox.state();
    const auto lines = log_lines(workspace.stderr_files());

    // Step 3: every applied fault shows in the log, as a retry or as an error.
    for (const auto& spec : specs)
    {
        INFO("fault " << spec);
        CHECK(times_applied(state, spec) >= 1);
    }
    CHECK(
        count_lines(lines, "payer request failed with payer.http_429; retrying") ==
        times_applied(state, eob_429)
    );
    CHECK(
        count_lines(lines, "payer request failed with payer.transport; retrying") ==
        times_applied(state, coverage_reset)
    );
    CHECK(
        count_lines(lines, "payer request failed with payer.bad_json; retrying") ==
        times_applied(state, patient_malformed)
    );
    CHECK(count_lines(lines, "payer.token_http_503") >= times_applied(state, token_503));
    // Requests in flight with the session that the fault ended also get 401, so there can be
    // more of these lines than applied faults.
    CHECK(
        count_lines(lines, "session expired or invalid (HTTP 401)") >= times_applied(state, bundle_session)
    );
    CHECK(
        count_lines(lines, "batch bundle failed with healthcloud.http_503") >=
        times_applied(state, bundle_503)
    );
    CHECK(count_lines(lines, "warning mirror: ") >= times_applied(state, mirror_503));

    // Step 4: no secret or PHI in any log line. The stored refresh tokens are read last,
    // after every rotation.
    const auto stored =
        workspace.sqlite("SELECT refresh_token FROM patients WHERE refresh_token IS NOT NULL");
    REQUIRE(stored.exit_code == 0);
    std::istringstream stored_lines(stored.output);
    for (std::string token; std::getline(stored_lines, token);)
    {
        forbidden.push_back({"a stored refresh token", token});
    }
    for (const auto& item : forbidden)
    {
        INFO(item.label);
        REQUIRE(item.text.size() >= (item.whole_word ? 3U : 6U));
    }
    CHECK(lines.size() >= 10);
    std::vector<std::string> findings;
    for (std::size_t number = 0; number < lines.size(); ++number)
    {
        for (const auto& item : forbidden)
        {
            if (line_contains(lines[number], item))
            {
                findings.push_back("log line " + std::to_string(number + 1) + " contains " + item.label);
            }
        }
    }
    for (const auto& finding : findings)
    {
        UNSCOPED_INFO(finding);
    }
    CHECK(findings.empty());
}

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "sandbox_process.hpp"

namespace {

namespace json = boost::json;
using bbsync::tests::form_encode;
using bbsync::tests::http_result;
using bbsync::tests::sandbox_process;

const std::string header_path = "/api/v1/ingest/sources/BlueButtonClaim/ClaimHeader";
const std::string form_type = "application/x-www-form-urlencoded";

// Posts the token exchange form for a subject token.
http_result exchange_token(const sandbox_process& sandbox, const std::string& subject_token)
{
    return sandbox.request(
        "salesforce",
        "POST",
        "/services/a360/token",
        "grant_type=" + form_encode("urn:salesforce:grant-type:external:cdp") +
            "&subject_token=" + form_encode(subject_token) +
            "&subject_token_type=" + form_encode("urn:ietf:params:oauth:token-type:access_token"),
        {{"Content-Type", form_type}}
    );
}

// Returns a tenant token obtained through the password grant and the exchange.
std::string tenant_token(const sandbox_process& sandbox)
{
    const auto& ready = sandbox.ready();
    const auto core = sandbox.request(
        "salesforce",
        "POST",
        "/services/oauth2/token",
        "grant_type=password&client_id=" + form_encode(std::string(ready.at("sf_client_id").as_string())) +
            "&client_secret=" + form_encode(std::string(ready.at("sf_client_secret").as_string())) +
            "&username=" + form_encode(std::string(ready.at("dc_username").as_string())) +
            "&password=" + form_encode(std::string(ready.at("dc_password").as_string())),
        {{"Content-Type", form_type}}
    );
    REQUIRE(core.status == 200);
    const auto exchanged = exchange_token(sandbox, std::string(core.json().at("access_token").as_string()));
    REQUIRE(exchanged.status == 200);
    return std::string(exchanged.json().at("access_token").as_string());
}

http_result ingest(
    const sandbox_process& sandbox, const std::string& token, const std::string& path, const std::string& body
)
{
    return sandbox.request(
        "datacloud",
        "POST",
        path,
        body,
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}
    );
}

http_result ingest_records(
    const sandbox_process& sandbox, const std::string& token, const json::array& records
)
{
    return ingest(sandbox, token, header_path, json::serialize(json::object{{"data", records}}));
}

json::object valid_header(const std::string& id)
{
    return json::object{
        {"id", id},
        {"patientId", "001SB0000000000001"},
        {"claimType", "CARRIER"},
        {"billablePeriodStart", "2024-03-01"},
        {"totalSubmittedAmount", 125.5},
        {"itemCount", 2},
        {"lastUpdated", "2024-03-05T10:00:00.000Z"},
        {"providerNpi", nullptr},
    };
}

std::string error_message(const http_result& result)
{
    return std::string(result.json().at(0).at("message").as_string());
}

}  // namespace

TEST_CASE("password grant needs the sandbox user", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto bad = sandbox.request(
        "salesforce",
        "POST",
        "/services/oauth2/token",
        "grant_type=password&client_id=bbsync-sandbox-connected-app&client_secret=sandbox-sf-secret"
        "&username=bbsync-integration%40sandbox.example&password=wrong",
        {{"Content-Type", form_type}}
    );
    CHECK(bad.status == 400);
    CHECK(bad.body == R"({"error":"invalid_grant","error_description":"authentication failure"})");

    const auto token = tenant_token(sandbox);
    CHECK_FALSE(token.empty());
}

TEST_CASE("token exchange returns a tenant JWT without scheme", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto result = exchange_token(sandbox, sandbox.salesforce_token());
    REQUIRE(result.status == 200);
    const auto body = result.json().as_object();
    CHECK(body.at("instance_url").as_string() == "127.0.0.1:" + std::to_string(sandbox.port("datacloud")));
    CHECK(body.at("token_type").as_string() == "Bearer");
    CHECK(body.at("issued_token_type").as_string() == "urn:ietf:params:oauth:token-type:jwt");
    CHECK(body.at("expires_in").as_int64() == 7200);

    // Three non-empty base64url parts.
    const std::string token(body.at("access_token").as_string());
    const auto first_dot = token.find('.');
    const auto second_dot = token.find('.', first_dot + 1);
    REQUIRE(first_dot != std::string::npos);
    REQUIRE(second_dot != std::string::npos);
    CHECK(token.find('.', second_dot + 1) == std::string::npos);
    CHECK(first_dot > 0);
    CHECK(second_dot > first_dot + 1);
    CHECK(second_dot + 1 < token.size());
    CHECK(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
        std::string::npos
    );
}

TEST_CASE("token exchange rejects a bad subject token", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto unknown = exchange_token(sandbox, "00DSB0000000001!not-a-session");
    CHECK(unknown.status == 400);
    CHECK(unknown.json().at("error").as_string() == "invalid_grant");
    CHECK(unknown.json().at("error_description").is_string());

    const auto tenant = exchange_token(sandbox, tenant_token(sandbox));
    CHECK(tenant.status == 400);

    const auto wrong_grant = sandbox.request(
        "salesforce",
        "POST",
        "/services/a360/token",
        "grant_type=client_credentials&subject_token=x&subject_token_type=" +
            form_encode("urn:ietf:params:oauth:token-type:access_token"),
        {{"Content-Type", form_type}}
    );
    CHECK(wrong_grant.status == 400);
    CHECK(wrong_grant.json().at("error").as_string() == "unsupported_grant_type");
}

TEST_CASE("ingestion accepts valid records with 202", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = tenant_token(sandbox);
    const auto first = ingest_records(sandbox, token, json::array{valid_header("e1"), valid_header("e2")});
    CHECK(first.status == 202);
    CHECK(first.body == R"({"accepted":true})");

    // A repeated id replaces the record and counts as an update.
    auto changed = valid_header("e1");
    changed["claimType"] = "DME";
    CHECK(ingest_records(sandbox, token, json::array{changed}).status == 202);

    const auto state = sandbox.state().at("datacloud").as_object();
    CHECK(state.at("records").at("ClaimHeader").as_int64() == 2);
    CHECK(state.at("updates").at("ClaimHeader").as_int64() == 1);
    CHECK(state.at("batches").at("ClaimHeader").as_int64() == 2);
    CHECK(state.at("records").at("ClaimLineItem").as_int64() == 0);
    CHECK(state.at("requests").at("202").as_int64() == 2);
    CHECK(state.at("tokens_issued").as_int64() == 1);
}

TEST_CASE("ingestion answers 413 above 204800 bytes", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = tenant_token(sandbox);
    const std::string prefix = R"({"data":[{"id":"big","claimType":")";
    const std::string suffix = R"("}]})";
    const auto body_of = [&](std::size_t size) {
        return prefix + std::string(size - prefix.size() - suffix.size(), 'x') + suffix;
    };
    CHECK(ingest(sandbox, token, header_path, body_of(204800)).status == 202);
    const auto over = ingest(sandbox, token, header_path, body_of(204801));
    CHECK(over.status == 413);
    CHECK(over.json().at(0).at("errorCode").as_string() == "PAYLOAD_TOO_LARGE");
    CHECK(sandbox.state().at("datacloud").at("records").at("ClaimHeader").as_int64() == 1);
}

TEST_CASE("ingestion answers 404 for unknown source or object", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = tenant_token(sandbox);
    const auto body = json::serialize(json::object{{"data", json::array{valid_header("e1")}}});
    CHECK(ingest(sandbox, token, "/api/v1/ingest/sources/BlueButtonClaim/Claim", body).status == 404);
    CHECK(ingest(sandbox, token, "/api/v1/ingest/sources/OtherSource/ClaimHeader", body).status == 404);
    CHECK(ingest(sandbox, token, "/api/v1/ingest/sources/BlueButtonClaim", body).status == 404);
}

TEST_CASE("ingestion answers 400 for each schema mismatch", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto token = tenant_token(sandbox);

    struct mismatch
    {
        const char* name;
        const char* field;
        json::value value;
        const char* reason;
    };
    const mismatch cases[] = {
        {"unknown field", "memberName", "x", "unknown field memberName"},
        {"string as number", "totalSubmittedAmount", "12.50", "field totalSubmittedAmount is not a number"},
        {"number as string", "claimType", 3, "field claimType is not a string"},
        {"bad date",
         "billablePeriodStart",
         "2024-02-30",
         "field billablePeriodStart is not a date yyyy-MM-dd"},
        {"date with time",
         "billablePeriodEnd",
         "2024-02-03T00:00:00Z",
         "field billablePeriodEnd is not a date yyyy-MM-dd"},
        {"bad date-time",
         "lastUpdated",
         "2024-02-03 10:00:00",
         "field lastUpdated is not a date-time yyyy-MM-ddTHH:mm:ss.SSSZ"},
        {"nested object", "insurer", json::object{{"name", "CMS"}}, "nested value in field insurer"},
        {"nested array", "insurer", json::array{"CMS"}, "nested value in field insurer"},
    };
    for (const auto& item : cases)
    {
        INFO(item.name);
        auto record = valid_header("e1");
        record[item.field] = item.value;
        const auto result = ingest_records(sandbox, token, json::array{valid_header("e0"), record});
        CHECK(result.status == 400);
        CHECK(error_message(result) == std::string("Record 1 of ClaimHeader: ") + item.reason);
    }

    auto missing_id = valid_header("e1");
    missing_id.erase("id");
    const auto no_id = ingest_records(sandbox, token, json::array{missing_id});
    CHECK(no_id.status == 400);
    CHECK(error_message(no_id) == "Record 0 of ClaimHeader: missing id");

    const auto not_object = ingest_records(sandbox, token, json::array{"e1"});
    CHECK(not_object.status == 400);
    CHECK(ingest(sandbox, token, header_path, R"({"records":[]})").status == 400);
    CHECK(ingest(sandbox, token, header_path, R"({"data":[]})").status == 400);

    // A rejected request stores none of its records.
    const auto state = sandbox.state().at("datacloud").as_object();
    CHECK(state.at("records").at("ClaimHeader").as_int64() == 0);
    CHECK(state.at("rejections").at("missing id").as_int64() == 1);
    CHECK(state.at("rejections").at("unknown field memberName").as_int64() == 1);
}

TEST_CASE("ingestion answers 401 without a live tenant token", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1", "--dc-token-lifetime", "1"});
    const json::array records{valid_header("e1")};
    CHECK(ingest_records(sandbox, "eyJ.eyJ.sig", records).status == 401);

    // A core Salesforce token is not a tenant token.
    const auto core = sandbox.salesforce_token();
    CHECK(ingest_records(sandbox, core, records).status == 401);
    const auto foreign = sandbox.state().at("foreign_authorization").as_array();
    REQUIRE(foreign.size() == 4);
    CHECK(foreign.at(3).at("host").as_string() == "datacloud");
    CHECK(foreign.at(3).at("count").as_int64() == 1);

    const auto token = tenant_token(sandbox);
    CHECK(ingest_records(sandbox, token, records).status == 202);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(ingest_records(sandbox, token, records).status == 401);
}

TEST_CASE("ingestion fault answers 429 with Retry-After", "[sandbox]")
{
    sandbox_process sandbox(
        {"--patients",
         "1",
         "--eobs-per-patient",
         "1",
         "--fault",
         "datacloud:/api/v1/ingest:first=1:status=429"}
    );
    const auto token = tenant_token(sandbox);
    const json::array records{valid_header("e1")};
    const auto throttled = ingest_records(sandbox, token, records);
    CHECK(throttled.status == 429);
    CHECK(throttled.header("Retry-After") == "1");
    CHECK(ingest_records(sandbox, token, records).status == 202);
    const auto state = sandbox.state();
    CHECK(state.at("datacloud").at("requests").at("429").as_int64() == 1);
    CHECK(state.at("datacloud").at("records").at("ClaimHeader").as_int64() == 1);
}

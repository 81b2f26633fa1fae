#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "sandbox_process.hpp"

namespace {

namespace json = boost::json;
using bbsync::tests::sandbox_process;

std::string link_url(const json::value& bundle, std::string_view relation)
{
    for (const auto& link : bundle.at("link").as_array())
    {
        if (link.at("relation").as_string() == relation)
            return std::string(link.at("url").as_string());
    }
    return {};
}

// Returns the path and query of an absolute link, checking it points at the payer port.
std::string link_target(const sandbox_process& sandbox, const std::string& url)
{
    const std::string origin = "https://127.0.0.1:" + std::to_string(sandbox.port("payer"));
    REQUIRE(url.starts_with(origin));
    return url.substr(origin.size());
}

std::string eob_search(const std::string& patient, const std::string& extra)
{
    return "/v2/fhir/ExplanationOfBenefit?patient=" + patient + extra;
}

std::string max_last_updated(const json::value& bundle)
{
    std::string latest;
    for (const auto& entry : bundle.at("entry").as_array())
        latest = std::max(latest, std::string(entry.at("resource").at("meta").at("lastUpdated").as_string()));
    return latest;
}

}  // namespace

TEST_CASE("EOB paging totals and links agree", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "2", "--eobs-per-patient", "23"});
    const std::string patient = "-19990000000002";
    const auto token = sandbox.payer_access_token(1);

    for (const int count : {1, 7, 10, 50})
    {
        INFO("_count=" << count);
        std::set<std::string> ids;
        std::vector<std::string> order;
        std::string target =
            eob_search(patient, "&_count=" + std::to_string(count) + "&_format=application%2Ffhir%2Bjson");
        std::size_t start = 0;
        for (int pages = 0; !target.empty(); ++pages)
        {
            REQUIRE(pages < 30);
            const auto result = sandbox.get_with_token("payer", target, token);
            REQUIRE(result.status == 200);
            CHECK(result.header("Content-Type") == "application/fhir+json");
            const auto bundle = result.json();
            CHECK(bundle.at("type").as_string() == "searchset");
            CHECK(bundle.at("total").as_int64() == 23);
            const auto& entries = bundle.at("entry").as_array();
            CHECK(entries.size() == std::min<std::size_t>(static_cast<std::size_t>(count), 23 - start));
            for (const auto& entry : entries)
            {
                CHECK_FALSE(entry.as_object().contains("fullUrl"));
                const std::string id(entry.at("resource").at("id").as_string());
                CHECK(id.find("--") != std::string::npos);
                ids.insert(id);
                order.push_back(id.substr(id.find("--") + 2));
            }

            // Links: first and last always, previous and next by position.
            const auto first = link_url(bundle, "first");
            const auto last = link_url(bundle, "last");
            CHECK(first.find("startIndex=0&_count=" + std::to_string(count)) != std::string::npos);
            CHECK(first.find("_format=application%2Ffhir%2Bjson") != std::string::npos);
            CHECK(first.find("patient=" + patient) != std::string::npos);
            CHECK(last.find("startIndex=" + std::to_string(22 / count * count) + "&") != std::string::npos);
            CHECK(
                link_url(bundle, "self").find("startIndex=" + std::to_string(start) + "&") !=
                std::string::npos
            );
            CHECK(link_url(bundle, "previous").empty() == (start == 0));
            const auto next = link_url(bundle, "next");
            CHECK(next.empty() == (start + static_cast<std::size_t>(count) >= 23));
            if (!next.empty())
                CHECK(
                    next.find(
                        "startIndex=" + std::to_string(start + static_cast<std::size_t>(count)) + "&"
                    ) != std::string::npos
                );
            target = next.empty() ? std::string() : link_target(sandbox, next);
            start += static_cast<std::size_t>(count);
        }
        CHECK(ids.size() == 23);
        CHECK(std::is_sorted(order.begin(), order.end()));
    }
}

TEST_CASE("empty EOB search keeps first and last links", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "5"});
    const auto token = sandbox.payer_access_token(0);
    const auto result = sandbox.get_with_token(
        "payer", eob_search("-19990000000001", "&_lastUpdated=gt2100-01-01T00:00:00Z"), token
    );
    REQUIRE(result.status == 200);
    const auto bundle = result.json();
    CHECK(bundle.at("total").as_int64() == 0);
    CHECK_FALSE(bundle.as_object().contains("entry"));
    CHECK_FALSE(link_url(bundle, "first").empty());
    CHECK(link_url(bundle, "last").find("startIndex=0&") != std::string::npos);
    CHECK(link_url(bundle, "next").empty());
}

TEST_CASE("EOBs cover every claim type and carry varied fields", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "8"});
    const auto token = sandbox.payer_access_token(0);
    const auto result = sandbox.get_with_token("payer", eob_search("-19990000000001", "&_count=50"), token);
    REQUIRE(result.status == 200);
    CHECK(result.body.find("IGNORED_FIELD") == std::string::npos);
    CHECK(result.body.find("567834") == std::string::npos);
    std::set<std::string> types;
    const auto bundle = result.json();
    for (const auto& entry : bundle.at("entry").as_array())
    {
        const auto& eob = entry.at("resource");
        const std::string id(eob.at("id").as_string());
        types.insert(id.substr(0, id.find("--")));
        CHECK(eob.at("patient").at("reference").as_string() == "Patient/-19990000000001");
        CHECK(eob.at("identifier").at(0).at("value").as_string() == "-" + id.substr(id.find("--") + 2));
        const std::string updated(eob.at("meta").at("lastUpdated").as_string());
        CHECK(updated.ends_with("+00:00"));
        CHECK(updated < "2026");
    }
    CHECK(types.size() == 8);
    // Money keeps two decimals in the text.
    CHECK(result.body.find(",\"currency\"") != std::string::npos);
    CHECK(result.body.find("E1,\"currency\"") == std::string::npos);
}

TEST_CASE("refresh rotates the token and rejects its reuse", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "2", "--eobs-per-patient", "1"});
    const std::string original(sandbox.patients().at(0).at("refresh_token").as_string());
    CHECK(original.size() >= 30);

    const auto first = sandbox.payer_token(original);
    REQUIRE(first.status == 200);
    const auto body = first.json().as_object();
    CHECK(body.at("token_type").as_string() == "Bearer");
    CHECK(body.at("expires_in").as_int64() == 3600);
    CHECK(body.at("patient").as_string() == "-19990000000001");
    CHECK(
        body.at("scope").as_string() ==
        "patient/Patient.rs patient/Coverage.rs patient/ExplanationOfBenefit.rs profile"
    );
    CHECK(body.at("access_grant_expiration").as_string().size() == 20);
    CHECK(body.at("refresh_token").as_string() != original);

    const auto reuse = sandbox.payer_token(original);
    CHECK(reuse.status == 400);
    CHECK(reuse.body == R"({"error":"invalid_grant"})");

    // The rotated token works once, and the previous access token is revoked with it.
    const std::string old_access(body.at("access_token").as_string());
    const auto second = sandbox.payer_token(std::string(body.at("refresh_token").as_string()));
    CHECK(second.status == 200);
    const auto old = sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000001", old_access);
    CHECK(old.status == 401);
}

TEST_CASE("unknown refresh token gets invalid_request", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto result = sandbox.payer_token("not-a-token-that-was-ever-issued");
    CHECK(result.status == 400);
    CHECK(
        result.body ==
        R"({"status_code":400,"error":"invalid_request","error_description":"Missing refresh token parameter"})"
    );
}

TEST_CASE("new consent kills earlier refresh tokens", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const std::string original(sandbox.patients().at(0).at("refresh_token").as_string());
    const auto consent = sandbox.request("payer", "POST", "/_sandbox/consent?patient=-19990000000001");
    REQUIRE(consent.status == 200);
    const std::string fresh(consent.json().at("refresh_token").as_string());
    CHECK(sandbox.payer_token(original).status == 400);
    CHECK(sandbox.payer_token(original).json().at("error").as_string() == "invalid_request");
    CHECK(sandbox.payer_token(fresh).status == 200);
    CHECK(sandbox.request("payer", "POST", "/_sandbox/consent?patient=-19990000000009").status == 404);
}

TEST_CASE("token endpoint rejects bad clients and grant types", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const std::string token(sandbox.patients().at(0).at("refresh_token").as_string());
    const std::vector<std::pair<std::string, std::string>> form{
        {"Content-Type", "application/x-www-form-urlencoded"}};

    const auto wrong_secret = sandbox.request(
        "payer",
        "POST",
        "/v2/o/token/",
        "grant_type=refresh_token&refresh_token=" + token +
            "&client_id=bbsync-sandbox-app&client_secret=wrong",
        form
    );
    CHECK(wrong_secret.status == 401);
    CHECK(wrong_secret.body == R"({"error":"invalid_client"})");

    const auto no_client = sandbox.request(
        "payer", "POST", "/v2/o/token", "grant_type=refresh_token&refresh_token=" + token, form
    );
    CHECK(no_client.status == 401);

    auto basic = form;
    // base64("bbsync-sandbox-app:sandbox-payer-secret")
    basic.emplace_back("Authorization", "Basic YmJzeW5jLXNhbmRib3gtYXBwOnNhbmRib3gtcGF5ZXItc2VjcmV0");
    const auto wrong_grant = sandbox.request("payer", "POST", "/v2/o/token", "grant_type=password", basic);
    CHECK(wrong_grant.status == 400);
    CHECK(wrong_grant.body == R"({"error":"unsupported_grant_type"})");

    // Basic authentication and the path without a trailing slash work.
    const auto ok = sandbox.request(
        "payer", "POST", "/v2/o/token", "grant_type=refresh_token&refresh_token=" + token, basic
    );
    CHECK(ok.status == 200);
}

TEST_CASE("_lastUpdated prefixes filter new EOBs", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "2", "--eobs-per-patient", "12"});
    const std::string patient = "-19990000000001";
    const auto token = sandbox.payer_access_token(0);
    const auto initial = sandbox.get_with_token("payer", eob_search(patient, "&_count=50"), token).json();
    const std::string watermark = max_last_updated(initial);

    const auto added = sandbox.request("payer", "POST", "/_sandbox/eobs?per_patient=3");
    REQUIRE(added.status == 200);
    CHECK(added.json().at("added").as_int64() == 6);

    const auto total_for = [&](const std::string& filter) {
        const auto result =
            sandbox.get_with_token("payer", eob_search(patient, "&_count=50&_lastUpdated=" + filter), token);
        REQUIRE(result.status == 200);
        return result.json().at("total").as_int64();
    };
    const auto encoded = bbsync::tests::form_encode(watermark);
    CHECK(total_for("gt" + encoded) == 3);
    CHECK(total_for("ge" + encoded) == 4);
    CHECK(total_for("lt" + encoded) == 11);
    CHECK(total_for("le" + encoded) == 12);
    // Two bounds make a range, and an offset other than +00:00 is converted to UTC.
    CHECK(total_for("gt2000-01-01&_lastUpdated=le" + encoded) == 12);
    CHECK(total_for("gt2000-01-01T00:00:00-05:00") == 15);

    const auto newest =
        sandbox.get_with_token("payer", eob_search(patient, "&_lastUpdated=gt" + encoded), token).json();
    CHECK(max_last_updated(newest) > watermark);
    const auto state = sandbox.state();
    CHECK(state.at("eobs_total").as_int64() == 30);
}

TEST_CASE("invalid EOB search parameters get 400 with a detail", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "12"});
    const auto token = sandbox.payer_access_token(0);
    const std::string patient = "-19990000000001";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"&_count=0", "_count must be an integer from 1 to 50"},
        {"&_count=51", "_count must be an integer from 1 to 50"},
        {"&_count=ten", "_count must be an integer from 1 to 50"},
        {"&_lastUpdated=eq2024-01-01", "the _lastUpdated operator is not valid"},
        {"&_lastUpdated=2024-01-01", "the _lastUpdated operator is not valid"},
        {"&_lastUpdated=gtyesterday", "the _lastUpdated value is not a valid FHIR date or instant"},
        {"&type=carrier,partd", "the type parameter value is not valid"},
        {"&type=http://example.org|carrier", "the type parameter value is not valid"},
        {"&startIndex=-1", "startIndex must be a non-negative integer"},
        {"&startIndex=12",
         "An error occurred contacting the upstream server:Value for startIndex (12) must be less than than "
         "result size (12)"},
    };
    for (const auto& [query, detail] : cases)
    {
        INFO(query);
        const auto result = sandbox.get_with_token("payer", eob_search(patient, query), token);
        CHECK(result.status == 400);
        CHECK(result.json().at("detail").as_string() == detail);
    }

    const auto in_query = sandbox.request("payer", "GET", eob_search(patient, "&access_token=" + token));
    CHECK(in_query.status == 400);
    CHECK(
        in_query.json().at("detail").as_string() == "Using the access token in the query parameters is not "
                                                    "supported. Use the Authorization header instead"
    );

    // Valid type filters, with and without the system.
    const auto typed = sandbox.get_with_token(
        "payer",
        eob_search(patient, "&type=carrier,https://bluebutton.cms.gov/resources/codesystem/eob-type%7Cpde"),
        token
    );
    REQUIRE(typed.status == 200);
    const auto typed_bundle = typed.json();
    for (const auto& entry : typed_bundle.at("entry").as_array())
    {
        const std::string id(entry.at("resource").at("id").as_string());
        CHECK((id.starts_with("carrier--") || id.starts_with("pde--")));
    }
}

TEST_CASE("FHIR calls need the patient's live bearer token", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "2", "--eobs-per-patient", "2", "--access-token-lifetime", "1"});
    const auto token = sandbox.payer_access_token(0);
    const std::string not_provided = R"({"detail":"Authentication credentials were not provided."})";

    const auto own = sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000001", token);
    CHECK(own.status == 200);
    CHECK(own.json().at("id").as_string() == "-19990000000001");

    const auto other = sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000002", token);
    CHECK(other.status == 404);
    CHECK(other.body == R"({"detail":"Not found."})");

    const auto bad = sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000001", "garbage");
    CHECK(bad.status == 401);
    CHECK(bad.body == not_provided);
    CHECK(sandbox.request("payer", "GET", "/v2/fhir/Coverage?beneficiary=-19990000000001").status == 401);

    const auto coverage =
        sandbox.get_with_token("payer", "/v2/fhir/Coverage?beneficiary=Patient%2F-19990000000001", token);
    REQUIRE(coverage.status == 200);
    CHECK(coverage.json().at("total").as_int64() == 4);
    CHECK(coverage.body.find("-20140000010000") == std::string::npos);

    // After the configured lifetime the access token is rejected.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const auto expired = sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000001", token);
    CHECK(expired.status == 401);
    CHECK(expired.body == not_provided);
}

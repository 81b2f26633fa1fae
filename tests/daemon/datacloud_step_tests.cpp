#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "coro/https_client.hpp"
#include "coro/run.hpp"
#include "daemon/datacloud/claim_data_step.hpp"
#include "daemon/datacloud/datacloud_client.hpp"
#include "daemon/datacloud/ingest_requests.hpp"
#include "test_pki.hpp"
#include "tls_test_server.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using bbsync::claim_data_step;
using bbsync::coro::awaitable;
using bbsync::test::recorded_request;
using bbsync::test::scripted_response;
using bbsync::test::test_pki;
using bbsync::test::tls_test_server;

namespace {

constexpr auto time_limit = std::chrono::seconds(20);

// A minimal ExplanationOfBenefit that map_claim_records accepts, with one diagnosis.
json::object eob(const std::string& id, const std::string& provider_display = "Clinic")
{
    auto resource = json::parse(R"({
        "resourceType": "ExplanationOfBenefit",
        "status": "active",
        "meta": {"lastUpdated": "2025-03-01T10:00:00.000+00:00"},
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [
            {"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]}}]
    })")
                        .as_object();
    resource["id"] = id;
    resource["provider"] = json::object{{"display", provider_display}};
    return resource;
}

// Wraps resources as Bundle.entry.
json::array entries(std::initializer_list<json::object> resources)
{
    json::array list;
    for (const auto& resource : resources)
    {
        list.push_back(json::object{{"resource", resource}});
    }
    return list;
}

// A loopback server that plays the Salesforce login and the Data Cloud tenant, and a client
// configured for it. Ingest requests whose 1-based number is in `ingest_429` get HTTP 429 with
// Retry-After: 0.
struct step_fixture
{
    step_fixture()
        : server(context.get_executor(), bbsync::test::make_tls_server_context(test_pki::shared().valid())),
          http(context.get_executor(), bbsync::coro::make_tls_client_context(test_pki::shared().ca_file())),
          client(http, settings, context.get_executor())
    {
        settings.cdp_url = "https://127.0.0.1:" + std::to_string(server.port());
        settings.cdp_user = "integration@example.com";
        settings.cdp_password = "cdp-password";
        settings.cdp_client_id = "cdp-client";
        settings.cdp_client_secret = "cdp-secret";
        settings.request_timeout = std::chrono::seconds(5);
        server.respond_with([this](const recorded_request& request) { return respond(request); });
    }

    scripted_response respond(const recorded_request& request)
    {
        scripted_response response;
        response.headers = {{"Content-Type", "application/json"}};
        if (request.target == "/services/oauth2/token")
        {
            response.body = R"({"access_token":"core-1","instance_url":")" + settings.cdp_url + R"("})";
        }
        else if (request.target == "/services/a360/token")
        {
            response.body = R"({"access_token":"tenant-1","instance_url":"127.0.0.1:)" +
                            std::to_string(server.port()) + R"(","expires_in":7200})";
        }
        else
        {
            ++ingest_requests;
            if (std::find(ingest_429.begin(), ingest_429.end(), ingest_requests) != ingest_429.end())
            {
                response.status = 429;
                response.headers.emplace_back("Retry-After", "0");
                response.body = R"([{"message":"Too many requests","errorCode":"REQUEST_LIMIT_EXCEEDED"}])";
                return response;
            }
            response.status = 202;
            response.body = R"({"accepted":true})";
        }
        return response;
    }

    claim_data_step make_step(bbsync::datacloud_client* datacloud)
    {
        bbsync::mapping::mapping_context mapping;
        mapping.sf_patient_id = "001SB0000000000001";
        mapping.fallback_last_updated = "2026-01-01T00:00:00.000Z";
        return claim_data_step(datacloud, "BlueButtonClaim", mapping, "job test");
    }

    // Sends each page through `step`, then stops the server.
    void send_pages(claim_data_step& step, const std::vector<json::array>& pages)
    {
        auto task = [](step_fixture& self, claim_data_step& target, std::vector<json::array> list
                    ) -> awaitable<void> {
            for (const auto& page : list)
            {
                co_await target.send_eob_page(page);
            }
            self.server.stop();
        };
        bbsync::coro::run_to_completion(context, task(*this, step, pages), time_limit);
    }

    // Targets of the ingest requests, in order.
    std::vector<std::string> ingest_targets() const
    {
        std::vector<std::string> targets;
        for (const auto& request : server.requests())
        {
            if (request.target.starts_with("/api/v1/ingest/"))
            {
                targets.push_back(request.target);
            }
        }
        return targets;
    }

    asio::io_context context;
    bbsync::config settings;
    tls_test_server server;
    bbsync::coro::https_client http;
    bbsync::datacloud_client client;
    std::vector<int> ingest_429;
    int ingest_requests = 0;
};

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("claim data step sends pages per object", "[daemon][datacloud]")
{
    step_fixture fixture;
    auto step = fixture.make_step(&fixture.client);
    // The second page repeats eob-2, which is sent once.
    fixture.send_pages(step, {entries({eob("eob-1"), eob("eob-2")}), entries({eob("eob-2"), eob("eob-3")})});

    const auto summary = step.summary(true);
    INFO(summary);
    CHECK(step.status(true) == "Completed");
    CHECK(step.records_accepted() == 6);
    CHECK(contains(summary, "Sent 6 claim records to Data Cloud source BlueButtonClaim in 4 requests."));
    CHECK(contains(summary, "ClaimHeader: 3 accepted, 0 rejected"));
    CHECK(contains(summary, "ClaimDiagnosis: 3 accepted, 0 rejected"));
    CHECK_FALSE(contains(summary, "Clinic"));
    CHECK_FALSE(contains(summary, "I10"));
    const auto targets = fixture.ingest_targets();
    REQUIRE(targets.size() == 4);
    CHECK(targets[0] == "/api/v1/ingest/sources/BlueButtonClaim/ClaimDiagnosis");
    CHECK(targets[1] == "/api/v1/ingest/sources/BlueButtonClaim/ClaimHeader");
}

TEST_CASE("oversized claim record is counted as rejected", "[daemon][datacloud]")
{
    step_fixture fixture;
    auto step = fixture.make_step(&fixture.client);
    fixture.send_pages(step, {entries({eob("eob-1"), eob("eob-2", std::string(250000, 'x'))})});

    const auto summary = step.summary(true);
    INFO(summary);
    CHECK(step.status(true) == "PartiallyCompleted");
    CHECK(contains(summary, "ClaimHeader: 1 accepted, 1 rejected"));
    CHECK(contains(summary, "Rejected 1 x record of 200000 bytes or more once serialized"));
    for (const auto& request : fixture.server.requests())
    {
        CHECK(request.body.size() < bbsync::max_ingest_body_bytes);
    }
}

TEST_CASE("claim data step retries 429", "[daemon][datacloud]")
{
    step_fixture fixture;
    fixture.ingest_429 = {1, 2};
    auto step = fixture.make_step(&fixture.client);
    fixture.send_pages(step, {entries({eob("eob-1")})});

    INFO(step.summary(true));
    CHECK(step.status(true) == "Completed");
    CHECK(step.records_accepted() == 2);
    CHECK(fixture.ingest_requests == 4);
}

TEST_CASE("claim data step without login fails", "[daemon][datacloud]")
{
    step_fixture fixture;
    fixture.settings.cdp_password.clear();
    auto step = fixture.make_step(&fixture.client);
    fixture.send_pages(step, {entries({eob("eob-1")})});

    const auto summary = step.summary(true);
    INFO(summary);
    CHECK(step.status(true) == "Failed");
    CHECK(contains(summary, "datacloud.not_configured"));
    CHECK(contains(summary, "Rejected 2 x not sent after datacloud.not_configured"));
    CHECK(fixture.server.requests().empty());

    auto without_client = fixture.make_step(nullptr);
    CHECK(without_client.status(true) == "Failed");
}

TEST_CASE("incomplete fetch leaves claim data partial", "[daemon][datacloud]")
{
    step_fixture fixture;
    auto step = fixture.make_step(&fixture.client);
    fixture.send_pages(step, {entries({eob("eob-1")})});

    CHECK(step.status(false) == "PartiallyCompleted");
    CHECK(contains(step.summary(false), "stopped before every EOB was fetched"));

    auto nothing_sent = fixture.make_step(&fixture.client);
    CHECK(nothing_sent.status(false) == "Failed");
    CHECK(nothing_sent.status(true) == "Completed");
}

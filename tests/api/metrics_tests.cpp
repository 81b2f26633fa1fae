#include <boost/asio/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "coro/https_client.hpp"
#include "daemon/api/metrics.hpp"
#include "prometheus_text.hpp"

using bbsync::api_tests::parse_prometheus_text;

TEST_CASE("endpoint classes of remote calls", "[api]")
{
    using bbsync::api::classify_endpoint;
    CHECK(classify_endpoint("/v2/o/token/") == "payer_token");
    CHECK(classify_endpoint("/v2/fhir/Patient/-20140000008325") == "payer_fhir");
    CHECK(classify_endpoint("/v2/fhir/Coverage?beneficiary=-20140000008325&_count=50") == "payer_fhir");
    CHECK(classify_endpoint("/v2/fhir/ExplanationOfBenefit?patient=x&startIndex=50") == "payer_fhir");
    CHECK(classify_endpoint("/fhir/ExplanationOfBenefit?_getpages=abc") == "payer_fhir");
    CHECK(classify_endpoint("/services/oauth2/token") == "salesforce_token");
    CHECK(
        classify_endpoint("/services/data/v60.0/sobjects/PatientSyncJob__c/JobId__c/0b7e7c6a") ==
        "salesforce_sobject"
    );
    CHECK(
        classify_endpoint("/services/data/v60.0/composite/sobjects/PatientSyncJob__c/JobId__c") ==
        "salesforce_collections"
    );
    CHECK(classify_endpoint("/bundle/fhir-r4/v1/Bundle") == "healthcare_bundle");
    CHECK(
        classify_endpoint("/bundle/fhir-r4/v1/Practitioner?identifier=http%3A%2F%2Fhl7.org%7C1234567893") ==
        "healthcare_practitioner"
    );
    CHECK(classify_endpoint("/services/a360/token") == "datacloud_token");
    CHECK(classify_endpoint("/api/v1/ingest/sources/BlueButton/BlueButtonClaim") == "datacloud_ingest");
    CHECK(classify_endpoint("/") == "other");
    CHECK(classify_endpoint("") == "other");
}

TEST_CASE("client outcomes render by host and endpoint", "[api]")
{
    bbsync::api::metrics registry;
    const bbsync::coro::https_origin payer{"payer.example", 443};
    const bbsync::coro::https_origin salesforce{"127.0.0.1", 8443};
    bbsync::coro::http_request token_request;
    token_request.method = "POST";
    token_request.target = "/v2/o/token/";
    bbsync::coro::http_request upsert;
    upsert.method = "PATCH";
    upsert.target = "/services/data/v60.0/sobjects/PatientSyncJob__c/JobId__c/job-1";

    registry.record_outcome({payer, token_request, 200, {}, std::chrono::milliseconds(30), false});
    registry.record_outcome({payer, token_request, 429, {}, std::chrono::milliseconds(70), false});
    registry.record_outcome(
        {salesforce, upsert, 0, boost::asio::error::connection_reset, std::chrono::seconds(2), true}
    );

    const auto parsed = parse_prometheus_text(registry.render({}));
    CHECK(
        parsed.value(
            "bbsync_http_requests_total",
            {{"host", "payer.example"}, {"endpoint", "payer_token"}, {"status", "200"}}
        ) == 1
    );
    CHECK(
        parsed.value(
            "bbsync_http_requests_total",
            {{"host", "payer.example"}, {"endpoint", "payer_token"}, {"status", "429"}}
        ) == 1
    );
    CHECK(
        parsed.value(
            "bbsync_http_requests_total",
            {{"host", "127.0.0.1:8443"}, {"endpoint", "salesforce_sobject"}, {"status", "error"}}
        ) == 1
    );
    CHECK(
        parsed.value(
            "bbsync_http_request_duration_seconds_bucket",
            {{"host", "payer.example"}, {"endpoint", "payer_token"}, {"le", "0.05"}}
        ) == 1
    );
    CHECK(
        parsed.value(
            "bbsync_http_request_duration_seconds_bucket",
            {{"host", "payer.example"}, {"endpoint", "payer_token"}, {"le", "0.1"}}
        ) == 2
    );
    CHECK(
        parsed.value(
            "bbsync_http_request_duration_seconds_count",
            {{"host", "payer.example"}, {"endpoint", "payer_token"}}
        ) == 2
    );
    CHECK(
        parsed.value(
            "bbsync_http_request_duration_seconds_sum",
            {{"host", "127.0.0.1:8443"}, {"endpoint", "salesforce_sobject"}}
        ) == 2
    );
    // The replay on a new connection counts as one retry.
    CHECK(parsed.value("bbsync_http_retries_total") == 1);
}

TEST_CASE("empty metrics still declare every family", "[api]")
{
    const auto parsed = parse_prometheus_text(bbsync::api::metrics{}.render({}));
    for (const char* family :
         {"bbsync_jobs_total",
          "bbsync_jobs_in_flight",
          "bbsync_http_requests_total",
          "bbsync_http_retries_total",
          "bbsync_http_request_duration_seconds",
          "bbsync_token_refreshes_total",
          "bbsync_watermark_lag_seconds",
          "bbsync_wal_size_bytes"})
    {
        INFO("family " << family);
        CHECK(parsed.types.contains(family));
        CHECK(parsed.helps.contains(family));
    }
    CHECK(parsed.value("bbsync_http_retries_total") == 0);
    CHECK(parsed.value("bbsync_wal_size_bytes") == 0);
}

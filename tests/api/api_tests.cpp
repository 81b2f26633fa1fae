#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "../integration/temporary_directory.hpp"
#include "api_daemon.hpp"
#include "daemon/api/admin_routes.hpp"
#include "daemon/api/metrics.hpp"
#include "daemon/api/trigger_api.hpp"
#include "prometheus_text.hpp"

namespace json = boost::json;
namespace http = boost::beast::http;
using bbsync::api_tests::api_daemon;
using bbsync::api_tests::http_exchange;
using bbsync::api_tests::parse_prometheus_text;

namespace {

const std::string bearer = std::string("Authorization: Bearer ") + api_daemon::api_key;
const std::string sync_path = std::string(api_daemon::prefix) + "$sync";

std::string sync_body(const std::string& patient_id, const std::string& token, const std::string& flag = {})
{
    json::object body{{"patientId", patient_id}, {"accessToken", token}};
    if (!flag.empty())
    {
        body["claimDataIngestion"] = flag == "true";
    }
    return json::serialize(body);
}

// Returns the first issue's expression of an OperationOutcome, or "" when it has none.
std::string outcome_field(const std::string& body)
{
    const auto outcome = json::parse(body).as_object();
    REQUIRE(outcome.at("resourceType").as_string() == "OperationOutcome");
    const auto& issue = outcome.at("issue").as_array().at(0).as_object();
    const auto* expression = issue.if_contains("expression");
    return expression ? std::string(expression->as_array().at(0).as_string()) : std::string();
}

bbsync::api::http_request make_request(http::verb method, const std::string& target)
{
    bbsync::api::http_request request{method, target, 11};
    return request;
}

bbsync::api::admin_status fixed_status(bool ready, bool stopping)
{
    bbsync::api::admin_status status;
    status.ready = [ready] { return ready; };
    status.stopping = [stopping] { return stopping; };
    status.metrics_text = [] { return bbsync::api::metrics{}.render({}); };
    return status;
}

}  // namespace

TEST_CASE("admin readyz reflects start and stop", "[api]")
{
    const auto get = make_request(http::verb::get, "/readyz");
    CHECK(bbsync::api::handle_admin_request(get, fixed_status(false, false)).result_int() == 503);
    CHECK(bbsync::api::handle_admin_request(get, fixed_status(true, false)).result_int() == 200);
    CHECK(bbsync::api::handle_admin_request(get, fixed_status(true, true)).result_int() == 503);
}

TEST_CASE("admin rejects other paths and methods", "[api]")
{
    const auto status = fixed_status(true, false);
    CHECK(
        bbsync::api::handle_admin_request(make_request(http::verb::get, "/nope"), status).result_int() == 404
    );
    const auto post = bbsync::api::handle_admin_request(make_request(http::verb::post, "/healthz"), status);
    CHECK(post.result_int() == 405);
    CHECK(post[http::field::allow] == "GET");
}

TEST_CASE("admin metrics failure hides its text", "[api]")
{
    auto status = fixed_status(true, false);
    status.metrics_text = []() -> std::string { throw std::runtime_error("secret internal detail"); };
    const auto response =
        bbsync::api::handle_admin_request(make_request(http::verb::get, "/metrics"), status);
    CHECK(response.result_int() == 500);
    CHECK(response.body().find("secret internal detail") == std::string::npos);
}

TEST_CASE("metrics render passes the strict parser", "[api]")
{
    bbsync::api::metrics registry;
    registry.record_http_request("payer.example", "payer_fhir", "200", 0.2);
    registry.record_http_request("payer.example", "payer_fhir", "error", 100);
    registry.record_http_request("bundle\"host", "payer_fhir", "503", 0.01);
    registry.record_retry();
    registry.job_started();
    bbsync::api::metrics_gauges gauges;
    gauges.jobs_by_status = {{"Completed", 4}, {"Failed", 1}};
    gauges.token_refreshes = 3;
    gauges.watermark_lag_seconds = 12.5;
    gauges.wal_size_bytes = 4096;

    const auto parsed = parse_prometheus_text(registry.render(gauges));
    CHECK(parsed.value("bbsync_jobs_total", {{"status", "Completed"}}) == 4);
    CHECK(parsed.value("bbsync_jobs_total", {{"status", "InProgress"}}) == 0);
    CHECK(parsed.value("bbsync_jobs_in_flight") == 1);
    CHECK(
        parsed.value(
            "bbsync_http_requests_total",
            {{"host", "payer.example"}, {"endpoint", "payer_fhir"}, {"status", "200"}}
        ) == 1
    );
    CHECK(
        parsed.value(
            "bbsync_http_requests_total",
            {{"host", "bundle\"host"}, {"endpoint", "payer_fhir"}, {"status", "503"}}
        ) == 1
    );
    CHECK(parsed.value("bbsync_http_retries_total") == 1);
    CHECK(
        parsed.value(
            "bbsync_http_request_duration_seconds_bucket",
            {{"host", "payer.example"}, {"endpoint", "payer_fhir"}, {"le", "0.25"}}
        ) == 1
    );
    CHECK(
        parsed.value(
            "bbsync_http_request_duration_seconds_bucket",
            {{"host", "payer.example"}, {"endpoint", "payer_fhir"}, {"le", "60"}}
        ) == 1
    );
    CHECK(
        parsed.value(
            "bbsync_http_request_duration_seconds_bucket",
            {{"host", "payer.example"}, {"endpoint", "payer_fhir"}, {"le", "+Inf"}}
        ) == 2
    );
    CHECK(
        parsed.value(
            "bbsync_http_request_duration_seconds_count",
            {{"host", "payer.example"}, {"endpoint", "payer_fhir"}}
        ) == 2
    );
    CHECK(parsed.value("bbsync_token_refreshes_total") == 3);
    CHECK(parsed.value("bbsync_watermark_lag_seconds") == 12.5);
    CHECK(parsed.value("bbsync_wal_size_bytes") == 4096);
    CHECK(parsed.types.at("bbsync_http_request_duration_seconds") == "histogram");
}

TEST_CASE("strict metrics parser rejects bad lines", "[api]")
{
    CHECK_THROWS(parse_prometheus_text("bbsync_x 1\n"));
    CHECK_THROWS(parse_prometheus_text("# HELP bbsync_x x\n# TYPE bbsync_x gauge\nbbsync_x{a=1} 1\n"));
    CHECK_THROWS(parse_prometheus_text("# HELP 1bad x\n"));
    CHECK_THROWS(parse_prometheus_text("# HELP bbsync_x x\n# TYPE bbsync_x gauge\nbbsync_x one\n"));
    CHECK_THROWS(parse_prometheus_text("# TYPE bbsync_x gauge\nbbsync_x 1\n"));
    CHECK_NOTHROW(parse_prometheus_text("# HELP bbsync_x x\n# TYPE bbsync_x gauge\nbbsync_x{a=\"b\"} 1\n\n"));
}

TEST_CASE("sync body parser names the bad field", "[api]")
{
    using bbsync::api::request_problem;
    using bbsync::api::sync_request;
    const std::map<std::string, std::string> cases = {
        {"{", ""},
        {"[]", ""},
        {R"({"accessToken":"t"})", "patientId"},
        {R"({"patientId":"","accessToken":"t"})", "patientId"},
        {R"({"patientId":"123456789012345678901","accessToken":"t"})", "patientId"},
        {R"({"patientId":7,"accessToken":"t"})", "patientId"},
        {R"({"patientId":"p"})", "accessToken"},
        {R"({"patientId":"p","accessToken":""})", "accessToken"},
        {R"({"patientId":"p","accessToken":"t","claimDataIngestion":"yes"})", "claimDataIngestion"},
    };
    for (const auto& [body, field] : cases)
    {
        INFO(body);
        const auto parsed = bbsync::api::parse_sync_request(body);
        REQUIRE(std::holds_alternative<request_problem>(parsed));
        CHECK(std::get<request_problem>(parsed).field == field);
    }
    const auto valid = bbsync::api::parse_sync_request(R"({"patientId":"p","accessToken":"t","extra":1})");
    REQUIRE(std::holds_alternative<sync_request>(valid));
    CHECK_FALSE(std::get<sync_request>(valid).claim_data_ingestion);
}

TEST_CASE("bearer key comparison", "[api]")
{
    CHECK(bbsync::api::bearer_matches("Bearer key-1", "key-1"));
    CHECK(bbsync::api::bearer_matches("bearer key-1", "key-1"));
    CHECK_FALSE(bbsync::api::bearer_matches("Bearer key-2", "key-1"));
    CHECK_FALSE(bbsync::api::bearer_matches("Bearer key-1x", "key-1"));
    CHECK_FALSE(bbsync::api::bearer_matches("Basic key-1", "key-1"));
    CHECK_FALSE(bbsync::api::bearer_matches("", "key-1"));
    CHECK_FALSE(bbsync::api::bearer_matches("Bearer ", ""));
}

TEST_CASE("triggered sync completes and is recorded", "[api]")
{
    api_daemon daemon;
    INFO("daemon log: " << daemon.log_path());

    const auto accepted = daemon.trigger(
        {"POST", sync_path, {bearer}, sync_body(daemon.registered_patient(), daemon.access_token())}
    );
    REQUIRE(accepted.status == 202);
    const auto job_id = std::string(accepted.json().as_object().at("jobId").as_string());
    CHECK(accepted.body.find(daemon.access_token()) == std::string::npos);

    const auto finished = daemon.wait_for_job(job_id);
    REQUIRE(finished.status == 200);
    const auto job = finished.json().as_object();
    CHECK(job.at("status").as_string() == "Completed");
    CHECK(job.at("trigger").as_string() == "api");
    CHECK(job.at("patientId").as_string() == daemon.registered_patient());
    CHECK(job.at("eobsFetched").as_int64() == 3);
    CHECK(finished.body.find(daemon.access_token()) == std::string::npos);

    // The records reached Health Cloud, and the payer saw no refresh from bbsync.
    const auto state = daemon.sandbox().state();
    CHECK(state.at("records").as_object().at("Encounter").to_number<std::int64_t>() == 3);
    CHECK(state.at("tokens").as_object().at("payer_refreshes").to_number<std::int64_t>() == 1);

    // Metrics agree with `bbsync jobs --json`.
    const auto metrics = daemon.admin({"GET", "/metrics", {}, {}});
    REQUIRE(metrics.status == 200);
    const auto parsed = parse_prometheus_text(metrics.body);
    std::map<std::string, int> by_status;
    for (const auto& row : daemon.workspace().jobs())
    {
        ++by_status[std::string(row.at("status").as_string())];
    }
    for (const char* status : {"New", "InProgress", "Completed", "PartiallyCompleted", "Failed"})
    {
        INFO("status " << status);
        CHECK(parsed.value("bbsync_jobs_total", {{"status", status}}) == by_status[status]);
    }
    CHECK(by_status["Completed"] == 1);
    CHECK(parsed.value("bbsync_jobs_in_flight") == 0);
    bool payer_ok = false;
    for (const auto& sample : parsed.samples)
    {
        payer_ok =
            payer_ok || (sample.name == "bbsync_http_requests_total" && sample.labels.at("status") == "200");
    }
    CHECK(payer_ok);
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
    }
}

TEST_CASE("trigger API rejects bad requests", "[api]")
{
    api_daemon daemon;
    INFO("daemon log: " << daemon.log_path());
    const auto body = sync_body(daemon.registered_patient(), daemon.access_token());

    SECTION("missing API key")
    {
        const auto response = daemon.trigger({"POST", sync_path, {}, body});
        CHECK(response.status == 401);
        CHECK(outcome_field(response.body).empty());
    }
    SECTION("wrong API key")
    {
        const auto response = daemon.trigger({"POST", sync_path, {"Authorization: Bearer wrong-key"}, body});
        CHECK(response.status == 401);
    }
    SECTION("malformed JSON")
    {
        const auto response = daemon.trigger({"POST", sync_path, {bearer}, "{\"patientId\": "});
        CHECK(response.status == 400);
        CHECK(outcome_field(response.body).empty());
    }
    SECTION("missing access token")
    {
        const auto response = daemon.trigger({"POST", sync_path, {bearer}, R"({"patientId":"x"})"});
        CHECK(response.status == 400);
        CHECK(outcome_field(response.body) == "accessToken");
    }
    SECTION("oversize body")
    {
        const auto padding = std::string(70 * 1024, 'a');
        const auto response = daemon.trigger(
            {"POST", sync_path, {bearer}, R"({"patientId":"x","accessToken":"t","pad":")" + padding + "\"}"}
        );
        CHECK(response.status == 413);
    }
    SECTION("unknown patient")
    {
        const auto response =
            daemon.trigger({"POST", sync_path, {bearer}, sync_body("003UNKNOWN", daemon.access_token())});
        CHECK(response.status == 404);
        CHECK(outcome_field(response.body) == "patientId");
        CHECK(response.body.find(daemon.access_token()) == std::string::npos);
    }
    SECTION("unknown job id")
    {
        const auto response =
            daemon.trigger({"GET", std::string(api_daemon::prefix) + "jobs/no-such-job", {bearer}, {}});
        CHECK(response.status == 404);
    }
    SECTION("unknown route and wrong method")
    {
        CHECK(daemon.trigger({"GET", "/elsewhere", {bearer}, {}}).status == 404);
        CHECK(daemon.trigger({"GET", sync_path, {bearer}, {}}).status == 405);
    }
    SECTION("admin health endpoints")
    {
        const auto health = daemon.admin({"GET", "/healthz", {}, {}});
        CHECK(health.status == 200);
        CHECK(health.body == "ok\n");
        CHECK(daemon.admin({"GET", "/readyz", {}, {}}).status == 200);
        CHECK(daemon.admin({"POST", "/healthz", {}, {}}).status == 405);
    }
}

TEST_CASE("request flag wins over configuration", "[api]")
{
    const bool configured = GENERATE(false, true);

    // Ingestion on by configuration needs a complete Data Cloud login. The request turns it off
    // again, so the URL is never called.
    bbsync::integration_tests::temporary_directory secrets("bbsync-api-cdp");
    std::string extra_config =
        std::string("claimData.claimDataIngestion = ") + (configured ? "true" : "false") + "\n";
    if (configured)
    {
        const auto password = secrets.path() / "cdp.password";
        const auto client_secret = secrets.path() / "cdp.client_secret";
        bbsync::integration_tests::write_private_file(password, "test-cdp-password\n");
        bbsync::integration_tests::write_private_file(client_secret, "test-cdp-client-secret\n");
        extra_config += "claimData.cdpConfig.url = https://127.0.0.1:9/\n"
                        "claimData.cdpConfig.user = test-user\n"
                        "claimData.cdpConfig.client_id = test-client\n"
                        "claimData.cdpConfig.passwordFile = " +
                        password.string() +
                        "\nclaimData.cdpConfig.client_secretFile = " + client_secret.string() + "\n";
    }
    api_daemon daemon(extra_config);
    INFO("configured " << configured << "; daemon log: " << daemon.log_path());

    const auto flag = configured ? "false" : "true";
    const auto accepted = daemon.trigger(
        {"POST", sync_path, {bearer}, sync_body(daemon.registered_patient(), daemon.access_token(), flag)}
    );
    REQUIRE(accepted.status == 202);
    const auto job_id = std::string(accepted.json().as_object().at("jobId").as_string());
    const auto finished = daemon.wait_for_job(job_id);
    REQUIRE(finished.status == 200);
    const auto job = finished.json().as_object();
    CHECK(job.at("claimDataIngestion").as_bool() == !configured);
    if (configured)
    {
        CHECK(job.at("claimDataStatus").as_string() == "New");
    }
    else
    {
        // Without a Data Cloud login the requested claim data cannot be sent.
        CHECK(job.at("claimDataStatus").as_string() == "Failed");
    }
}

TEST_CASE("rejected access token fails the job", "[api]")
{
    api_daemon daemon;
    INFO("daemon log: " << daemon.log_path());
    const auto accepted = daemon.trigger(
        {"POST", sync_path, {bearer}, sync_body(daemon.registered_patient(), "not-a-valid-token")}
    );
    REQUIRE(accepted.status == 202);
    const auto finished =
        daemon.wait_for_job(std::string(accepted.json().as_object().at("jobId").as_string()));
    REQUIRE(finished.status == 200);
    const auto job = finished.json().as_object();
    CHECK(job.at("status").as_string() == "Failed");
    CHECK(job.at("lastErrorClass").as_string() == "payer.unauthorized");
}

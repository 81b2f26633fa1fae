#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <variant>

#include "sandbox/fault_spec.hpp"
#include "sandbox_process.hpp"
#include "tls_connection.hpp"

namespace {

namespace json = boost::json;
using bbsync::tests::sandbox_process;
using bbsync::tests::tls_connection;
using namespace std::chrono_literals;

const std::string eob_page = "/v2/fhir/ExplanationOfBenefit?patient=-19990000000001&_count=5";
const std::string eob_route = "/v2/fhir/ExplanationOfBenefit";
const std::string job_path = "/services/data/v60.0/sobjects/PatientSyncJob__c/JobId__c/";

sandbox_process start_with(const std::string& fault)
{
    return sandbox_process({"--patients", "1", "--eobs-per-patient", "12", "--fault", fault});
}

std::vector<std::pair<std::string, std::string>> bearer(const std::string& token)
{
    return {{"Authorization", "Bearer " + token}};
}

const json::object& fault_counters(const json::object& state, std::size_t index)
{
    return state.at("faults").at(index).as_object();
}

std::string link_url(const json::value& bundle, const std::string& relation)
{
    for (const auto& link : bundle.at("link").as_array())
    {
        if (link.at("relation").as_string() == relation)
            return std::string(link.at("url").as_string());
    }
    return {};
}

bool parses_as_json(const std::string& text)
{
    boost::system::error_code ec;
    json::parse(text, ec);
    return !ec;
}

json::object job_fields()
{
    return json::object{{"PatientId__c", "001SB0000000000001"}, {"Status__c", "InProgress"}};
}

}  // namespace

TEST_CASE("fault spec parser accepts each form", "[sandbox]")
{
    using namespace bbsync::sandbox;
    const auto spec = std::get<fault_spec>(parse_fault_spec("payer:" + eob_route + ":every=3:status=503"));
    CHECK(spec.host == host_kind::payer);
    CHECK(spec.route == eob_route);
    CHECK(spec.selector == fault_selector::every);
    CHECK(spec.count == 3);
    CHECK(spec.status == 503);
    CHECK(spec.retry_after == retry_after_form::none);

    const auto throttled =
        std::get<fault_spec>(parse_fault_spec("salesforce:/:first=2:status=429:retry_after_date=90"));
    CHECK(throttled.retry_after == retry_after_form::http_date);
    CHECK(throttled.retry_after_seconds == 90);

    const auto latency = std::get<fault_spec>(parse_fault_spec("healthcloud:/:p=0.25:latency=10-40"));
    CHECK(latency.selector == fault_selector::probability);
    CHECK(latency.probability == 0.25);
    CHECK(latency.min_ms == 10);
    CHECK(latency.max_ms == 40);

    const auto foreign = std::get<fault_spec>(parse_fault_spec("payer:/v2:all:next_foreign=http"));
    CHECK(foreign.foreign_plain_http);
}

TEST_CASE("fault spec parser rejects bad fields", "[sandbox]")
{
    using namespace bbsync::sandbox;
    for (const std::string bad : {
             "payer:/v2:all",
             "mainframe:/v2:all:stall",
             "payer:v2:all:stall",
             "payer:/_sandbox/state:all:stall",
             "payer:/v2:every=0:stall",
             "payer:/v2:p=1.5:stall",
             "payer:/v2:all:status=404",
             "payer:/v2:all:delay=-1",
             "payer:/v2:all:latency=50-10",
             "payer:/v2:all:stall=1",
             "payer:/v2:all:explode",
             "payer:/v2:all:delay=5:retry_after=1",
             "payer:/v2:all:invalid_session",
             "salesforce:/:all:entry_400",
             "healthcloud:/:all:big_page",
         })
    {
        INFO(bad);
        const auto parsed = parse_fault_spec(bad);
        REQUIRE(std::holds_alternative<std::string>(parsed));
        CHECK(std::get<std::string>(parsed).starts_with("invalid fault spec"));
    }
}

TEST_CASE("invalid --fault stops start-up", "[sandbox]")
{
    CHECK_THROWS_WITH(
        sandbox_process({"--fault", "payer:/v2:all:explode"}), Catch::Contains("exited before it was ready")
    );
}

TEST_CASE("every=3 status fault hits every third EOB page", "[sandbox]")
{
    auto sandbox = start_with("payer:" + eob_route + ":every=3:status=503");
    const auto token = sandbox.payer_access_token(0);
    std::vector<unsigned> statuses;
    for (int i = 0; i < 6; ++i)
        statuses.push_back(sandbox.get_with_token("payer", eob_page, token).status);
    CHECK(statuses == std::vector<unsigned>{200, 200, 503, 200, 200, 503});

    const auto last = sandbox.get_with_token("payer", eob_page, token);
    CHECK(last.status == 200);
    const auto state = sandbox.state();
    CHECK(fault_counters(state, 0).at("matched").as_int64() == 7);
    CHECK(fault_counters(state, 0).at("applied").as_int64() == 2);
    CHECK(fault_counters(state, 0).at("spec").as_string() == "payer:" + eob_route + ":every=3:status=503");
}

TEST_CASE("status faults use each service's error body", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "2"});
    const auto token = sandbox.payer_access_token(0);
    const auto set_faults = [&](const json::array& specs) {
        const auto result = sandbox.request(
            "payer", "POST", "/_sandbox/faults", json::serialize(json::object{{"faults", specs}})
        );
        REQUIRE(result.status == 200);
    };

    SECTION("payer 429 with Retry-After seconds and rate limit headers")
    {
        set_faults({"payer:" + eob_route + ":all:status=429:retry_after=120"});
        const auto result = sandbox.get_with_token("payer", eob_page, token);
        CHECK(result.status == 429);
        CHECK(result.header("Retry-After") == "120");
        CHECK(result.header("X-RateLimit-Remaining") == "0");
        CHECK(
            result.json().at("detail").as_string() ==
            "Request was throttled. Expected available in 120 seconds."
        );
    }
    SECTION("payer 429 with Retry-After as an HTTP-date")
    {
        set_faults({"payer:" + eob_route + ":all:status=429:retry_after_date=3600"});
        const auto result = sandbox.get_with_token("payer", eob_page, token);
        CHECK(result.status == 429);
        const auto date = result.header("Retry-After");
        INFO(date);
        CHECK(date.size() == 29);
        CHECK(date.ends_with(" GMT"));
        CHECK(date[3] == ',');
    }
    SECTION("payer 502 and 500")
    {
        set_faults({"payer:" + eob_route + ":first=1:status=502", "payer:/v2/fhir/Patient:all:status=500"});
        const auto bad_gateway = sandbox.get_with_token("payer", eob_page, token);
        CHECK(bad_gateway.status == 502);
        CHECK(
            bad_gateway.json().at("detail").as_string() == "A failure occurred contacting the upstream server"
        );
        const auto server_error = sandbox.get_with_token("payer", "/v2/fhir/Patient/-19990000000001", token);
        CHECK(server_error.status == 500);
        CHECK(server_error.header("Content-Type") == "text/html");
    }
    SECTION("salesforce 503 and healthcloud 429")
    {
        set_faults({"salesforce:/services/data:all:status=503", "healthcloud:/bundle:all:status=429"});
        const auto sf_token = sandbox.salesforce_token();
        const auto sf = sandbox.request("salesforce", "PATCH", job_path + "j1", "{}", bearer(sf_token));
        CHECK(sf.status == 503);
        CHECK(sf.json().at(0).at("errorCode").as_string() == "SERVER_UNAVAILABLE");
        const auto hc =
            sandbox.request("healthcloud", "POST", "/bundle/fhir-r4/v1/Bundle", "{}", bearer(sf_token));
        CHECK(hc.status == 429);
        CHECK(hc.header("Retry-After") == "1");
        CHECK(hc.json().at("resourceType").as_string() == "OperationOutcome");
        CHECK(hc.json().at("issue").at(0).at("code").as_string() == "throttled");
    }
}

TEST_CASE("faults endpoint replaces, lists and clears the set", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "2", "--fault", "payer:/v2:all:delay=1"}
    );
    CHECK(sandbox.request("payer", "GET", "/_sandbox/faults").json().at("faults").as_array().size() == 1);

    const auto bad =
        sandbox.request("salesforce", "POST", "/_sandbox/faults", R"({"faults":["payer:/v2:all:boom"]})");
    CHECK(bad.status == 400);
    CHECK(
        std::string(bad.json().at("detail").as_string()).find("unknown action 'boom'") != std::string::npos
    );
    CHECK(sandbox.state().at("faults").as_array().size() == 1);

    const auto replaced = sandbox.request(
        "healthcloud",
        "POST",
        "/_sandbox/faults",
        R"({"faults":["payer:/v2:all:stall","payer:/v2:all:reset"]})"
    );
    CHECK(replaced.status == 200);
    CHECK(replaced.json().at("faults").as_array().size() == 2);
    CHECK(replaced.json().at("faults").at(0).at("matched").as_int64() == 0);

    const auto cleared = sandbox.request("payer", "DELETE", "/_sandbox/faults");
    CHECK(cleared.status == 200);
    CHECK(cleared.json().at("faults").as_array().empty());
    const auto token = sandbox.payer_access_token(0);
    CHECK(sandbox.get_with_token("payer", eob_page, token).status == 200);
}

TEST_CASE("probability faults repeat for the same seed", "[sandbox]")
{
    const auto run = [] {
        auto sandbox = start_with("payer:" + eob_route + ":p=0.5:status=502");
        const auto token = sandbox.payer_access_token(0);
        std::string pattern;
        for (int i = 0; i < 16; ++i)
            pattern += sandbox.get_with_token("payer", eob_page, token).status == 502 ? 'x' : '.';
        return pattern;
    };
    const auto first = run();
    INFO(first);
    CHECK(first == run());
    CHECK(first.find('x') != std::string::npos);
    CHECK(first.find('.') != std::string::npos);
}

TEST_CASE("delay and latency faults hold the response", "[sandbox]")
{
    sandbox_process sandbox(
        {"--patients",
         "1",
         "--eobs-per-patient",
         "12",
         "--fault",
         "payer:" + eob_route + ":first=1:delay=300",
         "--fault",
         "payer:" + eob_route + ":all:latency=100-150"}
    );
    const auto token = sandbox.payer_access_token(0);
    const auto timed = [&] {
        const auto start = std::chrono::steady_clock::now();
        CHECK(sandbox.get_with_token("payer", eob_page, token).status == 200);
        return std::chrono::steady_clock::now() - start;
    };
    const auto first = timed();
    const auto second = timed();
    CHECK(first >= 400ms);
    CHECK(second >= 100ms);
    CHECK(second < 400ms);
}

TEST_CASE("stall fault never answers", "[sandbox]")
{
    auto sandbox = start_with("payer:" + eob_route + ":first=1:stall");
    const auto token = sandbox.payer_access_token(0);
    tls_connection connection(sandbox, "payer");
    connection.send("GET", eob_page, {}, bearer(token));
    CHECK_THROWS_AS(connection.read_response(700ms), boost::system::system_error);
    CHECK(sandbox.get_with_token("payer", eob_page, token).status == 200);
}

TEST_CASE("trickle fault sends one byte at a time", "[sandbox]")
{
    auto sandbox = start_with("payer:/v2/fhir/Patient:all:trickle=2");
    tls_connection connection(sandbox, "payer");
    connection.send("GET", "/v2/fhir/Patient/-19990000000001", {}, {{"Connection", "close"}});
    const auto outcome = connection.read_until_end(10s);
    INFO(outcome.received);
    CHECK_FALSE(outcome.timed_out);
    CHECK(outcome.received.starts_with("HTTP/1.1 401"));
    CHECK(outcome.reads >= outcome.received.size() / 2);
    CHECK(outcome.elapsed >= std::chrono::milliseconds(2 * outcome.received.size() / 2));
}

TEST_CASE("reset fault sends part of the body then RST", "[sandbox]")
{
    auto sandbox = start_with("payer:" + eob_route + ":all:reset");
    const auto token = sandbox.payer_access_token(0);
    tls_connection connection(sandbox, "payer");
    connection.send("GET", eob_page, {}, bearer(token));
    const auto outcome = connection.read_until_end(5s);
    CHECK_FALSE(outcome.timed_out);
    CHECK(outcome.end == boost::asio::error::connection_reset);
    const auto header_end = outcome.received.find("\r\n\r\n");
    REQUIRE(header_end != std::string::npos);
    CHECK(outcome.received.starts_with("HTTP/1.1 200"));
    CHECK(outcome.received.size() > header_end + 4);
    CHECK_FALSE(parses_as_json(outcome.received.substr(header_end + 4)));
}

TEST_CASE("close_no_notify fault skips close_notify", "[sandbox]")
{
    auto sandbox = start_with("payer:" + eob_route + ":all:close_no_notify");
    const auto token = sandbox.payer_access_token(0);
    tls_connection connection(sandbox, "payer");
    connection.send("GET", eob_page, {}, bearer(token));
    const auto outcome = connection.read_until_end(5s);
    CHECK_FALSE(outcome.timed_out);
    CHECK(outcome.end == boost::asio::ssl::error::stream_truncated);
    const auto header_end = outcome.received.find("\r\n\r\n");
    REQUIRE(header_end != std::string::npos);
    CHECK(parses_as_json(outcome.received.substr(header_end + 4)));
}

TEST_CASE("truncate fault closes mid-body without close_notify", "[sandbox]")
{
    auto sandbox = start_with("payer:" + eob_route + ":all:truncate");
    const auto token = sandbox.payer_access_token(0);
    tls_connection connection(sandbox, "payer");
    connection.send("GET", eob_page, {}, bearer(token));
    const auto outcome = connection.read_until_end(5s);
    CHECK_FALSE(outcome.timed_out);
    CHECK(outcome.end == boost::asio::ssl::error::stream_truncated);
    const auto header_end = outcome.received.find("\r\n\r\n");
    REQUIRE(header_end != std::string::npos);
    const auto length_at = outcome.received.find("Content-Length: ");
    REQUIRE(length_at != std::string::npos);
    const auto declared = std::stoul(outcome.received.substr(length_at + 16));
    const auto body_size = outcome.received.size() - header_end - 4;
    CHECK(body_size > 0);
    CHECK(body_size < declared);

    // The client of the other suites fails on the same response.
    CHECK_THROWS(sandbox.get_with_token("payer", eob_page, token));
}

TEST_CASE("malformed_json fault sends non-JSON 200", "[sandbox]")
{
    auto sandbox = start_with("payer:" + eob_route + ":all:malformed_json");
    const auto token = sandbox.payer_access_token(0);
    const auto result = sandbox.get_with_token("payer", eob_page, token);
    CHECK(result.status == 200);
    CHECK(result.header("Content-Type") == "application/fhir+json");
    CHECK_FALSE(parses_as_json(result.body));
}

TEST_CASE("next link faults loop or leave origin", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "12"});
    const auto token = sandbox.payer_access_token(0);
    const auto port = std::to_string(sandbox.port("payer"));
    const auto set_fault = [&](const std::string& spec) {
        sandbox.request(
            "payer", "POST", "/_sandbox/faults", json::serialize(json::object{{"faults", json::array{spec}}})
        );
    };

    set_fault("payer:" + eob_route + ":all:next_loop");
    const auto looped = sandbox.get_with_token("payer", eob_page, token).json();
    CHECK(link_url(looped, "next") == link_url(looped, "self"));
    const auto last_page = sandbox.get_with_token("payer", eob_page + "&startIndex=10", token).json();
    CHECK(link_url(last_page, "next") == link_url(last_page, "self"));

    set_fault("payer:" + eob_route + ":all:next_foreign");
    const auto foreign = link_url(sandbox.get_with_token("payer", eob_page, token).json(), "next");
    CHECK(foreign.starts_with("https://other.example:" + port + "/v2/fhir/ExplanationOfBenefit?"));
    CHECK(foreign.find("startIndex=5") != std::string::npos);

    set_fault("payer:" + eob_route + ":all:next_foreign=http");
    const auto plain = link_url(sandbox.get_with_token("payer", eob_page, token).json(), "next");
    CHECK(plain.starts_with("http://127.0.0.1:" + port + "/v2/fhir/ExplanationOfBenefit?"));
}

TEST_CASE("big_page fault serves a page over 9 MB", "[sandbox]")
{
    auto sandbox = start_with("payer:" + eob_route + ":all:big_page");
    const auto token = sandbox.payer_access_token(0);
    const auto result = sandbox.get_with_token("payer", eob_page, token);
    CHECK(result.status == 200);
    CHECK(result.body.size() > 9u * 1024 * 1024);
    const auto bundle = result.json();
    CHECK(bundle.at("resourceType").as_string() == "Bundle");
    CHECK(bundle.at("entry").as_array().size() > 5);
}

TEST_CASE("connection_close fault closes after the response", "[sandbox]")
{
    auto sandbox = start_with("payer:" + eob_route + ":all:connection_close");
    const auto token = sandbox.payer_access_token(0);
    tls_connection connection(sandbox, "payer");
    connection.send("GET", eob_page, {}, bearer(token));
    const auto result = connection.read_response(5s);
    CHECK(result.status == 200);
    CHECK(result.header("Connection") == "close");
    const auto rest = connection.read_until_end(5s);
    CHECK_FALSE(rest.timed_out);
    CHECK(rest.received.empty());
}

TEST_CASE("idle_close fault closes idle keep-alive connections", "[sandbox]")
{
    // The idle time is long enough that a client delayed by a loaded machine still measures most of it.
    auto sandbox = start_with("payer:/v2:all:idle_close=1000");
    const auto token = sandbox.payer_access_token(0);
    tls_connection connection(sandbox, "payer");
    connection.send("GET", eob_page, {}, bearer(token));
    CHECK(connection.read_response(5s).status == 200);
    const auto rest = connection.read_until_end(10s);
    CHECK_FALSE(rest.timed_out);
    CHECK(rest.elapsed >= 500ms);
    CHECK(rest.elapsed < 8s);

    // Without the fault the connection stays open.
    sandbox.request("payer", "DELETE", "/_sandbox/faults");
    tls_connection kept(sandbox, "payer");
    kept.send("GET", eob_page, {}, bearer(token));
    CHECK(kept.read_response(5s).status == 200);
    CHECK(kept.read_until_end(1s).timed_out);
}

TEST_CASE("invalid_session fault kills the Salesforce token", "[sandbox]")
{
    auto sandbox = start_with("salesforce:/services/data:first=1:invalid_session");
    const auto token = sandbox.salesforce_token();
    const auto patch = [&] {
        return sandbox.request(
            "salesforce",
            "PATCH",
            job_path + "job-1",
            json::serialize(job_fields()),
            {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}
        );
    };
    const auto first = patch();
    CHECK(first.status == 401);
    CHECK(first.json().at(0).at("errorCode").as_string() == "INVALID_SESSION_ID");
    const auto second = patch();
    CHECK(second.status == 401);
    CHECK(fault_counters(sandbox.state(), 0).at("applied").as_int64() == 1);

    const auto fresh = sandbox.salesforce_token();
    CHECK(fresh != token);
    const auto third = sandbox.request(
        "salesforce",
        "PATCH",
        job_path + "job-1",
        json::serialize(job_fields()),
        {{"Authorization", "Bearer " + fresh}, {"Content-Type", "application/json"}}
    );
    CHECK(third.status == 201);
}

TEST_CASE("entry_400 fault fails entry and dependents", "[sandbox]")
{
    auto sandbox = start_with("healthcloud:/bundle:first=1:entry_400");
    const auto token = sandbox.salesforce_token();
    const std::string urn = "urn:uuid:0b7c6a1e-1111-4a2b-8c3d-000000000001";
    const json::object identifier{{"system", "urn:bbsync:test"}, {"value", "e1"}};
    const json::object encounter{
        {"resourceType", "Encounter"},
        {"identifier", json::array{identifier}},
        {"status", "finished"},
        {"class", json::object{{"code", "AMB"}}},
        {"subject", json::object{{"reference", "Patient/001SB0000000000001"}}},
    };
    const json::object condition{
        {"resourceType", "Condition"},
        {"identifier", json::array{json::object{{"system", "urn:bbsync:test"}, {"value", "c1"}}}},
        {"code", json::object{{"text", "code"}}},
        {"subject", json::object{{"reference", "Patient/001SB0000000000001"}}},
        {"encounter", json::object{{"reference", urn}}},
    };
    const json::object bundle{
        {"resourceType", "Bundle"},
        {"type", "batch"},
        {"entry",
         json::array{
             json::object{
                 {"fullUrl", urn},
                 {"resource", encounter},
                 {"request", json::object{{"method", "POST"}, {"url", "Encounter"}}}},
             json::object{
                 {"resource", condition},
                 {"request", json::object{{"method", "POST"}, {"url", "Condition"}}}},
         }},
    };
    const auto post = [&] {
        return sandbox.request(
            "healthcloud",
            "POST",
            "/bundle/fhir-r4/v1/Bundle",
            json::serialize(bundle),
            {{"Authorization", "Bearer " + token}, {"Content-Type", "application/fhir+json"}}
        );
    };
    const auto failed = post();
    REQUIRE(failed.status == 200);
    const auto response = failed.json();
    CHECK(response.at("entry").at(0).at("response").at("status").as_string() == "400 Bad Request");
    CHECK(response.at("entry").at(1).at("response").at("status").as_string() == "424 Failed Dependency");
    CHECK(sandbox.state().at("records").at("Encounter").as_int64() == 0);

    const auto retried = post().json();
    CHECK(retried.at("entry").at(0).at("response").at("status").as_string() == "201 Created");
    CHECK(retried.at("entry").at(1).at("response").at("status").as_string() == "201 Created");
}

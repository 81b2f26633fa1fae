#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "../integration/temporary_directory.hpp"
#include "api_daemon.hpp"
#include "test_pki.hpp"

using bbsync::api_tests::api_daemon;

namespace {

const std::string bearer = std::string("Authorization: Bearer ") + api_daemon::api_key;

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// The certificate and key of a loopback server issued by the test CA, as files that
// https.certFile and https.keyFile can name.
struct tls_files
{
    bbsync::integration_tests::temporary_directory folder{"bbsync-api-tls"};
    std::string certificate = (folder.path() / "trigger.crt").string();
    std::string key = (folder.path() / "trigger.key").string();

    tls_files()
    {
        const auto& identity = bbsync::test::test_pki::shared().valid();
        bbsync::integration_tests::write_private_file(certificate, identity.certificate_pem);
        bbsync::integration_tests::write_private_file(key, identity.private_key_pem);
    }

    std::string config_lines() const
    {
        return "https.certFile = " + certificate + "\nhttps.keyFile = " + key + "\n";
    }
};

}  // namespace

TEST_CASE("trigger API serves TLS with configured certificate", "[api]")
{
    tls_files files;
    api_daemon daemon(files.config_lines());
    INFO("daemon log: " << daemon.log_path());
    const auto log = bbsync::integration_tests::read_text_file(daemon.log_path());
    CHECK(contains(log, "api: listening on https://127.0.0.1:"));

    // A client that trusts the test CA verifies the certificate and gets a response.
    const auto job_path = std::string(api_daemon::prefix) + "jobs/00000000-0000-4000-8000-000000000000";
    const auto verified =
        daemon.trigger_tls({"GET", job_path, {bearer}, {}}, bbsync::test::test_pki::shared().ca_file());
    CHECK(verified.status == 404);

    // The API key is still required over TLS.
    const auto no_key =
        daemon.trigger_tls({"GET", job_path, {}, {}}, bbsync::test::test_pki::shared().ca_file());
    CHECK(no_key.status == 401);

    // A client with only the system trust store rejects the test CA's certificate.
    CHECK_THROWS_WITH(
        daemon.trigger_tls({"GET", job_path, {bearer}, {}}, ""), Catch::Contains("curl exited")
    );

    // Plain HTTP to the TLS port gets no HTTP response.
    CHECK_THROWS_WITH(daemon.trigger({"GET", job_path, {bearer}, {}}), Catch::Contains("curl exited"));

    // The admin endpoint stays plain HTTP on loopback.
    CHECK(daemon.admin({"GET", "/healthz", {}, {}}).status == 200);
}

TEST_CASE("triggered sync over TLS completes", "[api]")
{
    tls_files files;
    api_daemon daemon(files.config_lines());
    INFO("daemon log: " << daemon.log_path());
    const auto& ca_file = bbsync::test::test_pki::shared().ca_file();

    const std::string body = "{\"patientId\":\"" + daemon.registered_patient() + "\",\"accessToken\":\"" +
                             daemon.access_token() + "\"}";
    const auto accepted =
        daemon.trigger_tls({"POST", std::string(api_daemon::prefix) + "$sync", {bearer}, body}, ca_file);
    REQUIRE(accepted.status == 202);
    const auto job_id = std::string(accepted.json().as_object().at("jobId").as_string());

    // Poll over TLS until the job has ended.
    bbsync::integration_tests::curl_response finished;
    for (int attempt = 0; attempt < 300; ++attempt)
    {
        finished = daemon.trigger_tls(
            {"GET", std::string(api_daemon::prefix) + "jobs/" + job_id, {bearer}, {}}, ca_file
        );
        if (finished.status == 200 && !finished.json().as_object().at("endTime").is_null())
        {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    REQUIRE(finished.status == 200);
    CHECK(finished.json().as_object().at("status").as_string() == "Completed");
}

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon/service/config.hpp"
#include "scratch_directory.hpp"

using bbsync::config;
using bbsync::config_error;
using bbsync::config_sources;
using bbsync::known_config_keys;
using bbsync::load_config;
using bbsync::loaded_config;
using bbsync::test::scratch_directory;

namespace {

config_sources file_sources(const std::string& path)
{
    config_sources sources;
    sources.file_path = path;
    return sources;
}

// Loads a configuration expected to be invalid and returns the config_error message.
std::string error_message(const config_sources& sources)
{
    try
    {
        load_config(sources);
    }
    catch (const config_error& e)
    {
        return e.what();
    }
    FAIL("load_config accepted a configuration that should be rejected");
    return {};
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

bool has_warning_containing(const loaded_config& loaded, const std::string& part)
{
    return std::any_of(loaded.warnings.begin(), loaded.warnings.end(), [&](const std::string& warning) {
        return contains(warning, part);
    });
}

// A valid value for every key, each different from the default.
const std::map<std::string, std::string> valid_values = {
    {"https.entryPath", "/trigger/v1/*"},
    {"bluebuttonapi.host", "127.0.0.1:8443"},
    {"bluebuttonapi.clientId", "payer-client"},
    {"bluebuttonapi.clientSecret", "payer-secret-value"},
    {"bluebuttonapi.tokenPath", "/o/token/"},
    {"bluebuttonapi.fhirPath", "/fhir/r4"},
    {"bluebuttonapi.eobEndpoint.pageCount", "20"},
    {"bluebuttonapi.eobEndpoint.count", "20"},
    {"bluebuttonapi.coverageEndpoint.count", "10"},
    {"bluebuttonapi.coverageEndpoint.queryParam", "patient"},
    {"bluebuttonapi.enablePagination", "false"},
    {"bluebuttonapi.eobEndpoint.typeFilter", "true"},
    {"bluebuttonIntegration.batchCount", "3"},
    {"bluebuttonIntegration.maxConcurrentSyncMessages", "7"},
    {"hcOrg.tokenUrl", "https://127.0.0.1:9443/services/oauth2/token"},
    {"hcOrg.client_id", "sf-client"},
    {"hcOrg.client_secret", "sf-secret-value"},
    {"hcOrg.instanceUrl", "https://127.0.0.1:9444"},
    {"hcOrg.apiVersion", "v61.0"},
    {"bundle.host", "127.0.0.1:9445"},
    {"bundle.path", "/bundle/v2"},
    {"bundle.maxConcurrentCalls", "2"},
    {"claimData.claimDataIngestion", "true"},
    {"claimData.sourceAPI", "OtherSource"},
    {"claimData.cdpConfig.url", "https://127.0.0.1:9446"},
    {"claimData.cdpConfig.user", "cdp-user"},
    {"claimData.cdpConfig.password", "cdp-password-value"},
    {"claimData.cdpConfig.client_id", "cdp-client"},
    {"claimData.cdpConfig.client_secret", "cdp-secret-value"},
    {"claimCoverage.payor", "Acme Health"},
    {"database.path", "/var/tmp/bbsync-test.db"},
    {"schedule.interval", "3600"},
    {"tls.caFile", "/etc/ssl/test-ca.pem"},
    {"log.level", "debug"},
    {"http.resolveTimeout", "2"},
    {"http.connectTimeout", "3"},
    {"http.handshakeTimeout", "4"},
    {"http.writeTimeout", "5"},
    {"http.readTimeout", "6"},
    {"http.requestTimeout", "7"},
    {"job.timeout", "600"},
    {"shutdown.gracePeriod", "12"},
    {"admin.listen", "[::1]:9090"},
    {"https.listen", "0.0.0.0:8443"},
    {"https.certFile", "/etc/bbsync/tls/cert.pem"},
    {"https.keyFile", "/etc/bbsync/tls/key.pem"},
    {"https.apiKey", "trigger-api-key-value"},
    {"tokens.keyFile", "/etc/bbsync/token-key"},
    {"tokens.previousKeyFile", "/etc/bbsync/token-key-previous"},
    {"tokens.allowPlaintext", "false"},
};

}  // namespace

TEST_CASE("empty file gives the defaults", "[daemon][config]")
{
    scratch_directory scratch;
    const auto loaded = load_config(file_sources(scratch.write_file("bbsync.conf", "", 0644)));
    const config defaults;

    CHECK(loaded.warnings.empty());
    const auto& c = loaded.values;
    CHECK(c.payer.host == defaults.payer.host);
    CHECK(c.payer.port == defaults.payer.port);
    CHECK(c.payer.host == "sandbox.bluebutton.cms.gov");
    CHECK(c.eob_count == 50);
    CHECK(c.coverage_count == 50);
    CHECK(c.coverage_query_param == "beneficiary");
    CHECK(c.enable_pagination);
    CHECK_FALSE(c.eob_type_filter);
    CHECK(c.batch_count == 5);
    CHECK(c.max_concurrent_sync_messages == 50);
    CHECK(c.sf_token_url == "https://login.salesforce.com/services/oauth2/token");
    CHECK(c.sf_client_id.empty());
    CHECK(c.sf_client_secret.empty());
    CHECK(c.payer_client_id.empty());
    CHECK(c.payer_client_secret.empty());
    CHECK(c.bundle.host == "api.healthcloud.salesforce.com");
    CHECK(c.bundle.port == 443);
    CHECK_FALSE(c.claim_data_ingestion);
    CHECK(c.claim_data_source_api == "BlueButtonClaim");
    CHECK(c.claim_coverage_payor == "CMS");
    CHECK(c.https_entry_path == "/blue-button/v2/*");
    CHECK(c.database_path == defaults.database_path);
    CHECK(c.sync_interval == defaults.sync_interval);
    CHECK(c.log_level == defaults.log_level);
    CHECK(c.job_timeout == defaults.job_timeout);
    CHECK(c.shutdown_grace_period == defaults.shutdown_grace_period);
    CHECK(c.admin_listen.enabled);
    CHECK(c.admin_listen.host == "127.0.0.1");
    CHECK(c.admin_listen.port == 8080);
    CHECK_FALSE(c.https_listen.enabled);
    CHECK(c.https_api_key.empty());
}

TEST_CASE("comments and blank lines are ignored", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path =
        scratch.write_file("bbsync.conf", "# page size\n\n   \nbluebuttonapi.eobEndpoint.count = 7\n");
    const auto loaded = load_config(file_sources(path));
    CHECK(loaded.warnings.empty());
    CHECK(loaded.values.eob_count == 7);
}

TEST_CASE("every known key accepts a valid value", "[daemon][config]")
{
    std::set<std::string> table_keys;
    for (const auto& [key, value] : valid_values)
    {
        table_keys.insert(key);
    }
    const std::set<std::string> known(known_config_keys().begin(), known_config_keys().end());
    REQUIRE(table_keys == known);

    scratch_directory scratch;
    std::string text;
    for (const auto& [key, value] : valid_values)
    {
        text += key + " = " + value + "\n";
    }
    const auto loaded = load_config(file_sources(scratch.write_file("bbsync.conf", text, 0600)));

    CHECK(loaded.warnings.empty());
    const auto& c = loaded.values;
    CHECK(c.https_entry_path == "/trigger/v1/*");
    CHECK(c.payer.host == "127.0.0.1");
    CHECK(c.payer.port == 8443);
    CHECK(c.payer_client_id == "payer-client");
    CHECK(c.payer_client_secret == "payer-secret-value");
    CHECK(c.payer_token_path == "/o/token/");
    CHECK(c.payer_fhir_path == "/fhir/r4");
    CHECK(c.eob_count == 20);
    CHECK(c.coverage_count == 10);
    CHECK(c.coverage_query_param == "patient");
    CHECK_FALSE(c.enable_pagination);
    CHECK(c.eob_type_filter);
    CHECK(c.batch_count == 3);
    CHECK(c.max_concurrent_sync_messages == 7);
    CHECK(c.sf_token_url == "https://127.0.0.1:9443/services/oauth2/token");
    CHECK(c.sf_client_id == "sf-client");
    CHECK(c.sf_client_secret == "sf-secret-value");
    CHECK(c.sf_instance_url == "https://127.0.0.1:9444");
    CHECK(c.sf_api_version == "v61.0");
    CHECK(c.bundle.host == "127.0.0.1");
    CHECK(c.bundle.port == 9445);
    CHECK(c.bundle_path == "/bundle/v2");
    CHECK(c.max_concurrent_bundle_calls == 2);
    CHECK(c.claim_data_ingestion);
    CHECK(c.claim_data_source_api == "OtherSource");
    CHECK(c.claim_coverage_payor == "Acme Health");
    CHECK(c.database_path == "/var/tmp/bbsync-test.db");
    CHECK(c.sync_interval == std::chrono::seconds(3600));
    CHECK(c.ca_file == "/etc/ssl/test-ca.pem");
    CHECK(c.log_level == bbsync::log::level::debug);
    CHECK(c.resolve_timeout == std::chrono::seconds(2));
    CHECK(c.connect_timeout == std::chrono::seconds(3));
    CHECK(c.handshake_timeout == std::chrono::seconds(4));
    CHECK(c.write_timeout == std::chrono::seconds(5));
    CHECK(c.read_timeout == std::chrono::seconds(6));
    CHECK(c.request_timeout == std::chrono::seconds(7));
    CHECK(c.job_timeout == std::chrono::seconds(600));
    CHECK(c.shutdown_grace_period == std::chrono::seconds(12));
    CHECK(c.admin_listen.enabled);
    CHECK(c.admin_listen.host == "::1");
    CHECK(c.admin_listen.port == 9090);
    CHECK(c.https_listen.enabled);
    CHECK(c.https_listen.host == "0.0.0.0");
    CHECK(c.https_listen.port == 8443);
    CHECK(c.https_cert_file == "/etc/bbsync/tls/cert.pem");
    CHECK(c.https_key_file == "/etc/bbsync/tls/key.pem");
    CHECK(c.https_api_key == "trigger-api-key-value");
    CHECK(c.token_key_file == "/etc/bbsync/token-key");
    CHECK(c.token_previous_key_file == "/etc/bbsync/token-key-previous");
    CHECK_FALSE(c.token_allow_plaintext);
}

TEST_CASE("plain trigger listener off loopback is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "https.listen = 0.0.0.0:8443\n", 0600);
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, "https.listen"));
    CHECK(contains(message, "loopback"));
}

TEST_CASE("listen addresses accept port 0 and off", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path =
        scratch.write_file("bbsync.conf", "admin.listen = off\nhttps.listen = 127.0.0.1:0\n", 0600);
    const auto loaded = load_config(file_sources(path));
    CHECK_FALSE(loaded.values.admin_listen.enabled);
    CHECK(loaded.values.https_listen.enabled);
    CHECK(loaded.values.https_listen.port == 0);
}

TEST_CASE("invalid listen address names the key", "[daemon][config]")
{
    scratch_directory scratch;
    for (const std::string value : {"8080", "example.org:80", "127.0.0.1:70000", "::1:80"})
    {
        const auto path = scratch.write_file("bbsync.conf", "admin.listen = " + value + "\n", 0600);
        const auto message = error_message(file_sources(path));
        INFO(message);
        CHECK(contains(message, "admin.listen"));
        CHECK(contains(message, "\"" + value + "\""));
    }
}

TEST_CASE("out-of-range count names key, value, range and line", "[daemon][config]")
{
    scratch_directory scratch;
    for (const std::string value : {"51", "0", "-1"})
    {
        const auto path =
            scratch.write_file("bbsync.conf", "# comment\nbluebuttonapi.eobEndpoint.count = " + value + "\n");
        const auto message = error_message(file_sources(path));
        INFO(message);
        CHECK(contains(message, "bluebuttonapi.eobEndpoint.count"));
        CHECK(contains(message, "\"" + value + "\""));
        CHECK(contains(message, "from 1 to 50"));
        CHECK(contains(message, path + ":2"));
    }
}

TEST_CASE("non-integer value is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    for (const std::string value : {"ten", "5x", "2.5", ""})
    {
        const auto path =
            scratch.write_file("bbsync.conf", "bluebuttonIntegration.batchCount = " + value + "\n");
        const auto message = error_message(file_sources(path));
        INFO(message);
        CHECK(contains(message, "bluebuttonIntegration.batchCount = \"" + value + "\""));
        CHECK(contains(message, "must be an integer from 1 to 50"));
        CHECK(contains(message, path + ":1"));
    }
}

TEST_CASE("non-boolean value is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "bluebuttonapi.enablePagination = yes\n");
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, "bluebuttonapi.enablePagination = \"yes\""));
    CHECK(contains(message, "must be true or false"));
    CHECK(contains(message, path + ":1"));
}

TEST_CASE("malformed token URL is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    for (const std::string value : {"http://x", "not a url", "https:///no-host"})
    {
        const auto path = scratch.write_file("bbsync.conf", "\nhcOrg.tokenUrl = " + value + "\n");
        const auto message = error_message(file_sources(path));
        INFO(message);
        CHECK(contains(message, "hcOrg.tokenUrl = \"" + value + "\""));
        CHECK(contains(message, "https://"));
        CHECK(contains(message, path + ":2"));
    }
}

TEST_CASE("bad host and port are rejected", "[daemon][config]")
{
    scratch_directory scratch;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"payer.example:0", "1 to 65535"},
        {"payer.example:65536", "1 to 65535"},
        {"payer.example:https", "1 to 65535"},
        {"payer.example:", "1 to 65535"},
        {"https://payer.example", "without scheme or path"},
        {"payer.example/v2", "without scheme or path"},
        {":443", "must name a host"},
    };
    for (const auto& [value, fix] : cases)
    {
        const auto path = scratch.write_file("bbsync.conf", "bluebuttonapi.host = " + value + "\n");
        const auto message = error_message(file_sources(path));
        INFO(message);
        CHECK(contains(message, "bluebuttonapi.host = \"" + value + "\""));
        CHECK(contains(message, fix));
        CHECK(contains(message, path + ":1"));
    }
}

TEST_CASE("relative path is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "database.path = data/bbsync.db\n");
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, "database.path = \"data/bbsync.db\""));
    CHECK(contains(message, "absolute path"));
    CHECK(contains(message, path + ":1"));
}

TEST_CASE("bad log level is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "log.level = verbose\n");
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, "log.level = \"verbose\""));
    CHECK(contains(message, "error, warning, notice, info, debug"));
    CHECK(contains(message, path + ":1"));
}

TEST_CASE("secret in a world-readable config file is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "hcOrg.client_secret = sf-secret-value\n", 0644);
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, "hcOrg.client_secret"));
    CHECK(contains(message, "chmod 600 " + path));
    CHECK(contains(message, path + ":1"));
    CHECK_FALSE(contains(message, "sf-secret-value"));
}

TEST_CASE("secret in a private config file is accepted", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "hcOrg.client_secret = sf-secret-value\n", 0600);
    const auto loaded = load_config(file_sources(path));
    CHECK(loaded.values.sf_client_secret == "sf-secret-value");
}

TEST_CASE("world-readable secret file is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    const auto secret = scratch.write_file("sf-secret", "sf-secret-value\n", 0644);
    const auto path = scratch.write_file("bbsync.conf", "hcOrg.client_secretFile = " + secret + "\n", 0644);
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, "hcOrg.client_secret"));
    CHECK(contains(message, "mode 0644"));
    CHECK(contains(message, "chmod 600 " + secret));
    CHECK_FALSE(contains(message, "sf-secret-value"));
}

TEST_CASE("private secret file is accepted and trimmed", "[daemon][config]")
{
    scratch_directory scratch;
    const auto secret = scratch.write_file("sf-secret", "sf-secret-value\n", 0600);
    const auto path = scratch.write_file("bbsync.conf", "hcOrg.client_secretFile = " + secret + "\n", 0644);
    const auto loaded = load_config(file_sources(path));
    CHECK(loaded.warnings.empty());
    CHECK(loaded.values.sf_client_secret == "sf-secret-value");
}

TEST_CASE("missing secret file is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    const auto secret = scratch.file("absent-secret");
    const auto path = scratch.write_file("bbsync.conf", "hcOrg.client_secretFile = " + secret + "\n", 0644);
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, "hcOrg.client_secret"));
    CHECK(contains(message, secret));
}

TEST_CASE("secret from the credentials directory is used", "[daemon][config]")
{
    scratch_directory scratch;
    std::filesystem::create_directory(scratch.path() / "credentials");
    scratch.write_file("credentials/bluebuttonapi.clientSecret", "payer-secret-value\n", 0400);
    auto sources = file_sources(scratch.write_file("bbsync.conf", "", 0644));
    sources.credentials_directory = scratch.file("credentials");

    const auto loaded = load_config(sources);
    CHECK(loaded.values.payer_client_secret == "payer-secret-value");
    CHECK(loaded.values.sf_client_secret.empty());
}

TEST_CASE("secret in the environment is rejected", "[daemon][config]")
{
    scratch_directory scratch;
    auto sources = file_sources(scratch.write_file("bbsync.conf", "", 0600));
    sources.environment = {{"BBSYNC_HCORG_CLIENT_SECRET", "sf-secret-value"}};

    const auto message = error_message(sources);
    INFO(message);
    CHECK(contains(message, "BBSYNC_HCORG_CLIENT_SECRET"));
    CHECK(contains(message, "hcOrg.client_secretFile"));
    CHECK_FALSE(contains(message, "sf-secret-value"));
}

TEST_CASE("secret file path may come from the environment", "[daemon][config]")
{
    scratch_directory scratch;
    const auto secret = scratch.write_file("sf-secret", "sf-secret-value", 0600);
    auto sources = file_sources(scratch.write_file("bbsync.conf", "", 0644));
    sources.environment = {{"BBSYNC_HCORG_CLIENT_SECRETFILE", secret}};

    const auto loaded = load_config(sources);
    CHECK(loaded.values.sf_client_secret == "sf-secret-value");
}

TEST_CASE("environment variable overrides the file", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file(
        "bbsync.conf", "bluebuttonapi.eobEndpoint.count = 30\nbluebuttonapi.enablePagination = true\n"
    );
    auto sources = file_sources(path);
    sources.environment = {
        {"BBSYNC_BLUEBUTTONAPI_EOBENDPOINT_COUNT", "20"},
        {"BBSYNC_BLUEBUTTONAPI_ENABLEPAGINATION", "false"},
        {"BBSYNC_HCORG_CLIENT_ID", "sf-client"},
        {"PATH", "/usr/bin"},
    };

    const auto loaded = load_config(sources);
    CHECK(loaded.warnings.empty());
    CHECK(loaded.values.eob_count == 20);
    CHECK_FALSE(loaded.values.enable_pagination);
    CHECK(loaded.values.sf_client_id == "sf-client");
}

TEST_CASE("invalid environment value names the variable", "[daemon][config]")
{
    scratch_directory scratch;
    auto sources = file_sources(scratch.write_file("bbsync.conf", "", 0644));
    sources.environment = {{"BBSYNC_BLUEBUTTONAPI_EOBENDPOINT_COUNT", "99"}};

    const auto message = error_message(sources);
    INFO(message);
    CHECK(contains(message, "bluebuttonapi.eobEndpoint.count = \"99\""));
    CHECK(contains(message, "environment BBSYNC_BLUEBUTTONAPI_EOBENDPOINT_COUNT"));
}

TEST_CASE("unknown key warns with the closest key", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "bluebuttonapi.eobEndpoint.cont = 20\n");
    const auto loaded = load_config(file_sources(path));

    REQUIRE(loaded.warnings.size() == 1);
    const auto& warning = loaded.warnings.front();
    INFO(warning);
    CHECK(contains(warning, "unknown configuration key bluebuttonapi.eobEndpoint.cont"));
    CHECK(contains(warning, path + ":1"));
    CHECK(contains(warning, "did you mean bluebuttonapi.eobEndpoint.count?"));
    CHECK(loaded.values.eob_count == 50);
}

TEST_CASE("pageCount alone sets the count", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "bluebuttonapi.eobEndpoint.pageCount = 12\n");
    const auto loaded = load_config(file_sources(path));
    CHECK(loaded.warnings.empty());
    CHECK(loaded.values.eob_count == 12);
}

TEST_CASE("invalid pageCount alone names pageCount", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "bluebuttonapi.eobEndpoint.pageCount = 51\n");
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, "bluebuttonapi.eobEndpoint.pageCount = \"51\""));
    CHECK(contains(message, "from 1 to 50"));
    CHECK(contains(message, path + ":1"));
}

TEST_CASE("count wins over a different pageCount", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file(
        "bbsync.conf", "bluebuttonapi.eobEndpoint.pageCount = 12\nbluebuttonapi.eobEndpoint.count = 25\n"
    );
    const auto loaded = load_config(file_sources(path));
    CHECK(loaded.values.eob_count == 25);
    REQUIRE(loaded.warnings.size() == 1);
    INFO(loaded.warnings.front());
    CHECK(has_warning_containing(loaded, "bluebuttonapi.eobEndpoint.pageCount = 12"));
    CHECK(has_warning_containing(loaded, "using 25"));
}

TEST_CASE("equal pageCount and count give no warning", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file(
        "bbsync.conf", "bluebuttonapi.eobEndpoint.pageCount = 25\nbluebuttonapi.eobEndpoint.count = 25\n"
    );
    const auto loaded = load_config(file_sources(path));
    CHECK(loaded.warnings.empty());
    CHECK(loaded.values.eob_count == 25);
}

TEST_CASE("several errors are reported together", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file(
        "bbsync.conf",
        "bluebuttonapi.eobEndpoint.count = 51\n"
        "bluebuttonapi.enablePagination = yes\n"
        "log.level = verbose\n"
        "database.path = relative.db\n"
    );
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, path + ":1"));
    CHECK(contains(message, "bluebuttonapi.eobEndpoint.count"));
    CHECK(contains(message, path + ":2"));
    CHECK(contains(message, "bluebuttonapi.enablePagination"));
    CHECK(contains(message, path + ":3"));
    CHECK(contains(message, "log.level"));
    CHECK(contains(message, path + ":4"));
    CHECK(contains(message, "database.path"));
}

TEST_CASE("line without equals sign is an error", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "# comment\nlog.level = info\nlog.level info\n");
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, path + ":3"));
    CHECK(contains(message, "'='"));
}

TEST_CASE("missing config file is an error", "[daemon][config]")
{
    scratch_directory scratch;
    const auto message = error_message(file_sources(scratch.file("absent.conf")));
    INFO(message);
    CHECK(contains(message, scratch.file("absent.conf")));
    CHECK(contains(message, "--config"));
}

TEST_CASE("repeated key is an error naming both lines", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file(
        "bbsync.conf", "bluebuttonapi.eobEndpoint.count = 51\nbluebuttonapi.eobEndpoint.count = 10\n"
    );
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, path + ":2"));
    CHECK(contains(message, "already set at " + path + ":1"));
}

TEST_CASE("line with an empty key is an error", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path = scratch.write_file("bbsync.conf", "= value\n");
    const auto message = error_message(file_sources(path));
    INFO(message);
    CHECK(contains(message, path + ":1"));
    CHECK(contains(message, "no key"));
}

TEST_CASE("byte order mark before a comment is ignored", "[daemon][config]")
{
    scratch_directory scratch;
    const auto path =
        scratch.write_file("bbsync.conf", "\xEF\xBB\xBF# written by an editor\nlog.level = debug\n");
    const auto loaded = load_config(file_sources(path));
    CHECK(loaded.warnings.empty());
    CHECK(loaded.values.log_level == bbsync::log::level::debug);
}

TEST_CASE("unknown BBSYNC variable warns", "[daemon][config]")
{
    scratch_directory scratch;
    auto sources = file_sources(scratch.write_file("bbsync.conf", ""));
    sources.environment = {{"BBSYNC_BLUEBUTTONAPI_HOTS", "127.0.0.1"}, {"BBSYNC_CONFIG", "/etc/x"}};
    const auto loaded = load_config(sources);
    REQUIRE(loaded.warnings.size() == 1);
    CHECK(contains(loaded.warnings.front(), "BBSYNC_BLUEBUTTONAPI_HOTS"));
}

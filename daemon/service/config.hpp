#ifndef BBSYNC_DAEMON_SERVICE_CONFIG_HPP
#define BBSYNC_DAEMON_SERVICE_CONFIG_HPP

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/common/token_cipher.hpp"
#include "daemon/service/log.hpp"

namespace bbsync {

// Host and port of an HTTPS service, from a "host" or "host:port" value.
struct service_address
{
    std::string host;
    std::uint16_t port = 443;
};

// A TCP listen address from a "host:port" or "[v6]:port" value. Port 0 picks a free port.
struct listen_address
{
    bool enabled = false;
    std::string host;
    std::uint16_t port = 0;
    // Origin of the value ("FILE:LINE" or "environment NAME"), or empty for the default.
    std::string origin;
};

// Everything bbsync reads from its configuration file, environment and credentials.
// Key names follow the MuleSoft application where it had one; docs/configuration.md lists
// every key with its default and unit.
struct config
{
    // Payer API (Blue Button 2.0 or a CARIN payer)
    service_address payer{"sandbox.bluebutton.cms.gov", 443};
    std::string payer_client_id;
    std::string payer_client_secret;
    std::string payer_token_path = "/v2/o/token/";
    std::string payer_fhir_path = "/v2/fhir";
    int eob_count = 50;
    int coverage_count = 50;
    std::string coverage_query_param = "beneficiary";
    bool enable_pagination = true;
    bool eob_type_filter = false;
    int batch_count = 5;
    int max_concurrent_sync_messages = 50;

    // Salesforce org and Healthcare API
    std::string sf_token_url = "https://login.salesforce.com/services/oauth2/token";
    std::string sf_client_id;
    std::string sf_client_secret;
    std::string sf_instance_url;  // empty: use instance_url from the token response
    std::string sf_api_version = "v60.0";
    service_address bundle{"api.healthcloud.salesforce.com", 443};
    std::string bundle_path = "/bundle/fhir-r4/v1/Bundle";
    int max_concurrent_bundle_calls = 5;

    // Data Cloud
    bool claim_data_ingestion = false;
    std::string claim_data_source_api = "BlueButtonClaim";
    // claimData.cdpConfig.*: the org's My Domain URL (the core token is requested at
    // <url>/services/oauth2/token and exchanged at <url>/services/a360/token) and the login of
    // the connected app with the cdp_ingest_api scope. Required when claim data ingestion is on.
    std::string cdp_url;
    std::string cdp_user;
    std::string cdp_password;
    std::string cdp_client_id;
    std::string cdp_client_secret;
    std::string claim_coverage_payor = "CMS";

    // bbsync's own
    std::string https_entry_path = "/blue-button/v2/*";
    std::string database_path = "/var/lib/bbsync/bbsync.db";
    std::chrono::seconds sync_interval{86400};
    std::string ca_file;
    log::level log_level = log::level::info;
    std::chrono::seconds resolve_timeout{10};
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds handshake_timeout{10};
    std::chrono::seconds write_timeout{30};
    std::chrono::seconds read_timeout{60};
    std::chrono::seconds request_timeout{120};
    std::chrono::seconds job_timeout{1800};
    std::chrono::seconds shutdown_grace_period{30};

    // Admin endpoint (/healthz, /readyz, /metrics) and the $sync trigger API
    listen_address admin_listen{true, "127.0.0.1", 8080};
    listen_address https_listen;  // disabled by default
    std::string https_cert_file;
    std::string https_key_file;
    std::string https_api_key;

    // Refresh tokens at rest: tokens.keyFile (or the credential token-key) and
    // tokens.previousKeyFile (or token-key-previous). Without a key, tokens are stored in
    // plaintext, unless tokens.allowPlaintext is false, which makes a missing key a
    // configuration error. The cipher is set by load_token_cipher, and is null without a key.
    std::string token_key_file;
    std::string token_previous_key_file;
    bool token_allow_plaintext = true;
    std::shared_ptr<const token_cipher> refresh_token_cipher;
};

// Returns whether `host` is a loopback IP address or "localhost".
bool is_loopback_host(const std::string& host);

// Raised when the configuration cannot be used. what() lists every problem found, one per
// line, each naming the key, the value, the allowed range and where the value came from.
class config_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

struct config_sources
{
    std::string file_path;                           // empty: no file
    std::map<std::string, std::string> environment;  // all variables; BBSYNC_* are read
    std::string credentials_directory;               // $CREDENTIALS_DIRECTORY, may be empty
    std::map<std::string, std::string> overrides;    // set by bbsync itself (demo, tests)
};

struct loaded_config
{
    config values;
    std::vector<std::string> warnings;  // unknown keys, reconciled duplicates
};

// Reads the file, then BBSYNC_* environment variables (a key's dots become underscores and
// letters upper case: BBSYNC_BLUEBUTTONAPI_EOBENDPOINT_COUNT), then overrides, and validates
// the result. Secrets (client secrets, passwords) are taken from the file only when it is
// not readable by group or others, from "<key>File" paths with the same rule, or from
// $CREDENTIALS_DIRECTORY/<key>; never from the environment. Throws config_error.
loaded_config load_config(const config_sources& sources);

// Reads tokens.keyFile and tokens.previousKeyFile, as found by load_config, and sets
// settings.refresh_token_cipher; leaves it null when no key file is set. Throws config_error
// naming the file when a key file is missing, readable by others or not a 256-bit key.
void load_token_cipher(config& settings);

// Collects the environment of this process into the map load_config expects.
std::map<std::string, std::string> process_environment();

// Every key bbsync understands, for help text and for "did you mean" suggestions.
const std::vector<std::string>& known_config_keys();

}  // namespace bbsync

#endif

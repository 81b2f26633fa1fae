#include "daemon/service/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <sys/stat.h>

extern char** environ;

namespace bbsync {
namespace {

constexpr const char* secret_keys[] = {
    "bluebuttonapi.clientSecret",
    "hcOrg.client_secret",
    "claimData.cdpConfig.password",
    "claimData.cdpConfig.client_secret",
    "https.apiKey",
};

const std::vector<std::string> all_keys = {
    "https.entryPath",
    "bluebuttonapi.host",
    "bluebuttonapi.clientId",
    "bluebuttonapi.clientSecret",
    "bluebuttonapi.tokenPath",
    "bluebuttonapi.fhirPath",
    "bluebuttonapi.eobEndpoint.pageCount",
    "bluebuttonapi.eobEndpoint.count",
    "bluebuttonapi.coverageEndpoint.count",
    "bluebuttonapi.coverageEndpoint.queryParam",
    "bluebuttonapi.enablePagination",
    "bluebuttonapi.eobEndpoint.typeFilter",
    "bluebuttonIntegration.batchCount",
    "bluebuttonIntegration.maxConcurrentSyncMessages",
    "hcOrg.tokenUrl",
    "hcOrg.client_id",
    "hcOrg.client_secret",
    "hcOrg.instanceUrl",
    "hcOrg.apiVersion",
    "bundle.host",
    "bundle.path",
    "bundle.maxConcurrentCalls",
    "claimData.claimDataIngestion",
    "claimData.sourceAPI",
    "claimData.cdpConfig.url",
    "claimData.cdpConfig.user",
    "claimData.cdpConfig.password",
    "claimData.cdpConfig.client_id",
    "claimData.cdpConfig.client_secret",
    "claimCoverage.payor",
    "database.path",
    "schedule.interval",
    "tls.caFile",
    "log.level",
    "http.resolveTimeout",
    "http.connectTimeout",
    "http.handshakeTimeout",
    "http.writeTimeout",
    "http.readTimeout",
    "http.requestTimeout",
    "job.timeout",
    "shutdown.gracePeriod",
    "admin.listen",
    "https.listen",
    "https.certFile",
    "https.keyFile",
    "https.apiKey",
    "tokens.keyFile",
    "tokens.previousKeyFile",
    "tokens.allowPlaintext",
};

bool is_secret_key(std::string_view key)
{
    return std::find(std::begin(secret_keys), std::end(secret_keys), key) != std::end(secret_keys);
}

std::string trim(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
    {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::string to_lower(std::string_view text)
{
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return std::tolower(c);
    });
    return lower;
}

// The environment variable that overrides a key: BBSYNC_ + key, dots as underscores.
std::string environment_name(std::string_view key)
{
    std::string name = "BBSYNC_";
    for (char c : key)
    {
        name.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    return name;
}

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
    {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i)
    {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
        {
            const std::size_t above = row[j];
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string closest_key(std::string_view key)
{
    std::string best;
    std::size_t best_distance = std::string::npos;
    for (const auto& candidate : all_keys)
    {
        const auto distance = edit_distance(key, candidate);
        if (distance < best_distance)
        {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

std::string octal_mode(mode_t mode)
{
    std::ostringstream text;
    text << '0' << std::oct << (mode & 0777);
    return text.str();
}

struct raw_value
{
    std::string value;
    std::string origin;  // "FILE:LINE", "environment NAME" or "override"
};

class reader
{
public:
    reader(std::map<std::string, raw_value> raw, std::vector<std::string>& errors)
        : raw_(std::move(raw)), errors_(errors)
    {}

    const raw_value* find(const std::string& key) const
    {
        auto it = raw_.find(key);
        return it == raw_.end() ? nullptr : &it->second;
    }

    void fail(const std::string& key, const raw_value& raw, const std::string& problem)
    {
        errors_.push_back(key + " = \"" + raw.value + "\" (" + raw.origin + "): " + problem);
    }

    void text(const std::string& key, std::string& out)
    {
        if (auto* raw = find(key))
        {
            out = raw->value;
        }
    }

    void path(const std::string& key, std::string& out)
    {
        if (auto* raw = find(key))
        {
            if (raw->value.empty() || raw->value.front() != '/')
            {
                fail(key, *raw, "must be an absolute path starting with '/'");
                return;
            }
            out = raw->value;
        }
    }

    void integer(const std::string& key, int min, int max, int& out)
    {
        auto* raw = find(key);
        if (raw == nullptr)
        {
            return;
        }
        int value = 0;
        const auto* first = raw->value.data();
        const auto* last = first + raw->value.size();
        auto [end, ec] = std::from_chars(first, last, value);
        if (ec != std::errc() || end != last || value < min || value > max)
        {
            fail(key, *raw, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
            return;
        }
        out = value;
    }

    void seconds(const std::string& key, int min, int max, std::chrono::seconds& out)
    {
        int value = static_cast<int>(out.count());
        integer(key, min, max, value);
        out = std::chrono::seconds(value);
    }

    void boolean(const std::string& key, bool& out)
    {
        auto* raw = find(key);
        if (raw == nullptr)
        {
            return;
        }
        const auto lower = to_lower(raw->value);
        if (lower == "true")
        {
            out = true;
        }
        else if (lower == "false")
        {
            out = false;
        }
        else
        {
            fail(key, *raw, "must be true or false");
        }
    }

    void address(const std::string& key, service_address& out)
    {
        auto* raw = find(key);
        if (raw == nullptr)
        {
            return;
        }
        const auto& value = raw->value;
        if (value.find("://") != std::string::npos || value.find('/') != std::string::npos)
        {
            fail(key, *raw, "must be a host name with an optional :port, without scheme or path");
            return;
        }
        service_address parsed;
        auto colon = value.rfind(':');
        if (colon != std::string::npos && value.find(':') == colon)
        {
            parsed.host = value.substr(0, colon);
            int port = 0;
            auto port_text = std::string_view(value).substr(colon + 1);
            auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
            if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
            {
                fail(key, *raw, "has an invalid port: use 1 to 65535");
                return;
            }
            parsed.port = static_cast<std::uint16_t>(port);
        }
        else
        {
            parsed.host = value;
        }
        if (parsed.host.empty())
        {
            fail(key, *raw, "must name a host");
            return;
        }
        out = parsed;
    }

    void https_url(const std::string& key, std::string& out)
    {
        auto* raw = find(key);
        if (raw == nullptr)
        {
            return;
        }
        auto parsed = boost::urls::parse_absolute_uri(raw->value);
        if (!parsed || parsed->scheme() != "https" || parsed->host().empty())
        {
            fail(key, *raw, "must be an absolute https:// URL, e.g. https://example.my.salesforce.com/path");
            return;
        }
        out = raw->value;
    }

    // Reads "host:port", "[v6 address]:port" or "off". Port 0 lets the kernel pick a free port.
    void listen(const std::string& key, listen_address& out)
    {
        auto* raw = find(key);
        if (raw == nullptr)
        {
            return;
        }
        const auto& value = raw->value;
        if (to_lower(value) == "off")
        {
            out = listen_address{};
            return;
        }
        const auto colon = value.rfind(':');
        if (colon == std::string::npos || colon == 0)
        {
            fail(key, *raw, "must be host:port (e.g. 127.0.0.1:8080), [::1]:port or off");
            return;
        }
        std::string host = value.substr(0, colon);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        {
            host = host.substr(1, host.size() - 2);
        }
        else if (host.find(':') != std::string::npos)
        {
            fail(key, *raw, "an IPv6 address must be in brackets, e.g. [::1]:8080");
            return;
        }
        int port = -1;
        const auto port_text = std::string_view(value).substr(colon + 1);
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535)
        {
            fail(key, *raw, "has an invalid port: use 0 (any free port) to 65535");
            return;
        }
        boost::system::error_code address_error;
        boost::asio::ip::make_address(host, address_error);
        if (address_error && host != "localhost")
        {
            fail(key, *raw, "must name an IP address or localhost");
            return;
        }
        out = listen_address{true, host, static_cast<std::uint16_t>(port), raw->origin};
    }

    void log_level(const std::string& key, log::level& out)
    {
        auto* raw = find(key);
        if (raw != nullptr && !log::parse_level(raw->value, out))
        {
            fail(key, *raw, "must be one of error, warning, notice, info, debug");
        }
    }

    void one_of(const std::string& key, std::initializer_list<const char*> allowed, std::string& out)
    {
        auto* raw = find(key);
        if (raw == nullptr)
        {
            return;
        }
        std::string list;
        for (const char* candidate : allowed)
        {
            if (raw->value == candidate)
            {
                out = raw->value;
                return;
            }
            list += list.empty() ? candidate : std::string(", ") + candidate;
        }
        fail(key, *raw, "must be one of " + list);
    }

private:
    std::map<std::string, raw_value> raw_;
    std::vector<std::string>& errors_;
};

// Reads a secret file, which must not be readable by group or others.
std::optional<std::string> read_secret_file(
    const std::string& key, const std::string& file, std::vector<std::string>& errors
)
{
    struct stat info
    {};
    if (stat(file.c_str(), &info) != 0)
    {
        errors.push_back(key + ": secret file " + file + " cannot be read: check the path");
        return std::nullopt;
    }
    if ((info.st_mode & 077) != 0)
    {
        errors.push_back(
            key + ": secret file " + file + " is readable by group or others (mode " +
            octal_mode(info.st_mode) + "): run chmod 600 " + file
        );
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in)
    {
        errors.push_back(key + ": secret file " + file + " cannot be read: check its owner and mode");
        return std::nullopt;
    }
    auto secret = content.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
    {
        secret.pop_back();
    }
    return secret;
}

// Finds the refresh-token key files (the keys, else systemd credentials token-key and
// token-key-previous) and checks that the combination can be used. The files are read later,
// by load_token_cipher.
void find_token_keys(const std::string& credentials_directory, config& c, std::vector<std::string>& errors)
{
    struct stat info
    {};
    if (c.token_key_file.empty() && !credentials_directory.empty() &&
        stat((credentials_directory + "/token-key").c_str(), &info) == 0)
    {
        c.token_key_file = credentials_directory + "/token-key";
    }
    if (c.token_previous_key_file.empty() && !credentials_directory.empty() &&
        stat((credentials_directory + "/token-key-previous").c_str(), &info) == 0)
    {
        c.token_previous_key_file = credentials_directory + "/token-key-previous";
    }
    if (!c.token_key_file.empty())
    {
        return;
    }
    if (!c.token_previous_key_file.empty())
    {
        errors.push_back(
            "tokens.previousKeyFile = \"" + c.token_previous_key_file +
            "\": a previous key is only read beside a current key; set tokens.keyFile too"
        );
    }
    else if (!c.token_allow_plaintext)
    {
        errors.push_back(
            "tokens.keyFile: not set and no credential token-key, while tokens.allowPlaintext = false; "
            "create a key with openssl rand -hex 32 and set tokens.keyFile to its path"
        );
    }
}

// Checks the Data Cloud login. It is required when claimData.claimDataIngestion is true. When
// ingestion is off by default, a trigger request or a patient can still turn it on, so a login
// that is partly set is also an error; a login with no key set leaves those jobs' claim data
// Failed with class datacloud.not_configured.
void check_claim_data_login(const reader& read, const config& c, std::vector<std::string>& errors)
{
    const std::pair<const char*, const std::string*> login[] = {
        {"claimData.cdpConfig.url", &c.cdp_url},
        {"claimData.cdpConfig.user", &c.cdp_user},
        {"claimData.cdpConfig.password", &c.cdp_password},
        {"claimData.cdpConfig.client_id", &c.cdp_client_id},
        {"claimData.cdpConfig.client_secret", &c.cdp_client_secret},
    };
    bool any_set = false;
    for (const auto& [key, value] : login)
    {
        any_set = any_set || !value->empty() || read.find(key) != nullptr;
    }
    if (!c.claim_data_ingestion && !any_set)
    {
        return;
    }
    const std::string reason = c.claim_data_ingestion ? "claimData.claimDataIngestion is true"
                                                      : "another claimData.cdpConfig key is set";
    for (const auto& [key, value] : login)
    {
        // A value that was given but rejected (an http:// URL) already has its own error.
        const auto* raw = read.find(key);
        if (!value->empty() || (raw != nullptr && !raw->value.empty()))
        {
            continue;
        }
        const bool secret = is_secret_key(key);
        errors.push_back(
            std::string(key) + ": missing, but " + reason + "; set it" +
            (secret ? std::string(" with ") + key + "File or a systemd credential named " + key
                    : std::string()) +
            ", or turn claim data ingestion off and remove the claimData.cdpConfig keys"
        );
    }
}

}  // namespace

const std::vector<std::string>& known_config_keys() { return all_keys; }

void load_token_cipher(config& settings)
{
    if (settings.token_key_file.empty())
    {
        return;
    }
    try
    {
        auto current = load_token_key(settings.token_key_file);
        std::optional<token_key> previous;
        if (!settings.token_previous_key_file.empty())
        {
            previous = load_token_key(settings.token_previous_key_file);
        }
        settings.refresh_token_cipher =
            std::make_shared<const token_cipher>(std::move(current), std::move(previous));
    }
    catch (const token_cipher_error& e)
    {
        throw config_error(
            std::string("invalid configuration:\n  tokens.keyFile / tokens.previousKeyFile: ") + e.what()
        );
    }
}

bool is_loopback_host(const std::string& host)
{
    if (host == "localhost")
    {
        return true;
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

std::map<std::string, std::string> process_environment()
{
    std::map<std::string, std::string> variables;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    {
        std::string_view text(*entry);
        auto equals = text.find('=');
        if (equals != std::string_view::npos)
        {
            variables.emplace(text.substr(0, equals), text.substr(equals + 1));
        }
    }
    return variables;
}

loaded_config load_config(const config_sources& sources)
{
    loaded_config result;
    std::vector<std::string> errors;
    std::map<std::string, raw_value> raw;
    bool file_private = true;

    // Step 1: the file, "key = value" per line, '#' starts a comment line.
    if (!sources.file_path.empty())
    {
        std::ifstream in(sources.file_path);
        if (!in)
        {
            throw config_error(
                "cannot read configuration file " + sources.file_path + ": create it or pass --config PATH"
            );
        }
        struct stat info
        {};
        if (stat(sources.file_path.c_str(), &info) == 0)
        {
            file_private = (info.st_mode & 077) == 0;
        }
        std::string line;
        int number = 0;
        while (std::getline(in, line))
        {
            ++number;
            // A UTF-8 byte order mark, as some editors write one, is not part of the first line.
            if (number == 1 && line.starts_with("\xEF\xBB\xBF"))
            {
                line.erase(0, 3);
            }
            auto content = trim(line);
            if (content.empty() || content.front() == '#')
            {
                continue;
            }
            const auto origin = sources.file_path + ":" + std::to_string(number);
            auto equals = content.find('=');
            if (equals == std::string::npos)
            {
                errors.push_back(origin + ": expected \"key = value\", found a line without '='");
                continue;
            }
            const auto key = trim(content.substr(0, equals));
            if (key.empty())
            {
                errors.push_back(origin + ": the line has no key before '='");
                continue;
            }
            if (auto earlier = raw.find(key); earlier != raw.end())
            {
                errors.push_back(
                    origin + ": " + key + " is already set at " + earlier->second.origin +
                    "; keep one of the two"
                );
                continue;
            }
            raw[key] = raw_value{trim(content.substr(equals + 1)), origin};
        }
    }

    // Step 2: secrets must not sit in a file that others can read.
    for (const char* key : secret_keys)
    {
        auto it = raw.find(key);
        if (it != raw.end() && !file_private)
        {
            errors.push_back(
                std::string(key) + " (" + it->second.origin +
                "): the configuration file holds a secret but is readable "
                "by group or others: run chmod 600 " +
                sources.file_path + " or use " + key + "File"
            );
        }
    }

    // Step 3: environment overrides, then bbsync's own overrides. Secrets are never taken
    // from the environment, where other processes of the same user can read them.
    for (const auto& key : all_keys)
    {
        for (const auto& name : {key, key + "File"})
        {
            auto env = sources.environment.find(environment_name(name));
            if (env == sources.environment.end())
            {
                continue;
            }
            if (is_secret_key(name))
            {
                errors.push_back(
                    environment_name(name) + ": secrets are not read from the environment; use " + name +
                    "File or a systemd credential named " + name
                );
                continue;
            }
            raw[name] = raw_value{env->second, "environment " + environment_name(name)};
        }
    }
    for (const auto& [name, value] : sources.environment)
    {
        // BBSYNC_FAILPOINT* belong to test builds (daemon/common/failpoint.hpp), not to config.
        if (!name.starts_with("BBSYNC_") || name == "BBSYNC_CONFIG" || name.starts_with("BBSYNC_FAILPOINT"))
        {
            continue;
        }
        bool known = false;
        for (const auto& key : all_keys)
        {
            known = known || name == environment_name(key) || name == environment_name(key + "File");
        }
        if (!known)
        {
            result.warnings.push_back(
                "unknown environment variable " + name +
                "; bbsync reads BBSYNC_ followed by a configuration key, "
                "e.g. " +
                environment_name("bluebuttonapi.host")
            );
        }
    }
    for (const auto& [key, value] : sources.overrides)
    {
        raw[key] = raw_value{value, "override"};
    }

    // Step 4: secrets from "<key>File" or the credentials directory.
    for (const char* key : secret_keys)
    {
        const std::string name(key);
        auto file_entry = raw.find(name + "File");
        std::optional<std::string> secret;
        if (file_entry != raw.end())
        {
            secret = read_secret_file(name, file_entry->second.value, errors);
            raw.erase(file_entry);
        }
        else if (!sources.credentials_directory.empty())
        {
            const auto credential = sources.credentials_directory + "/" + name;
            struct stat info
            {};
            if (stat(credential.c_str(), &info) == 0)
            {
                secret = read_secret_file(name, credential, errors);
            }
        }
        if (secret)
        {
            raw[name] = raw_value{*secret, "secret"};
        }
    }

    // Step 5: unknown keys are warnings that suggest the closest known key.
    for (const auto& [key, value] : raw)
    {
        if (std::find(all_keys.begin(), all_keys.end(), key) == all_keys.end())
        {
            result.warnings.push_back(
                "unknown configuration key " + key + " (" + value.origin + "); did you mean " +
                closest_key(key) + "?"
            );
        }
    }

    // Step 6: the two page-size keys of the MuleSoft application mean the same; count wins.
    auto page_count = raw.find("bluebuttonapi.eobEndpoint.pageCount");
    auto count = raw.find("bluebuttonapi.eobEndpoint.count");
    // A pageCount given without count is validated under its own name, so that an error names
    // the key the operator wrote.
    const char* const eob_count_key = page_count != raw.end() && count == raw.end()
                                          ? "bluebuttonapi.eobEndpoint.pageCount"
                                          : "bluebuttonapi.eobEndpoint.count";
    if (page_count != raw.end() && count != raw.end() && page_count->second.value != count->second.value)
    {
        result.warnings.push_back(
            "bluebuttonapi.eobEndpoint.pageCount = " + page_count->second.value +
            " differs from bluebuttonapi.eobEndpoint.count = " + count->second.value + "; using " +
            count->second.value
        );
    }

    // Step 7: typed values with their ranges.
    auto& c = result.values;
    reader read(std::move(raw), errors);
    read.text("https.entryPath", c.https_entry_path);
    read.address("bluebuttonapi.host", c.payer);
    read.text("bluebuttonapi.clientId", c.payer_client_id);
    read.text("bluebuttonapi.clientSecret", c.payer_client_secret);
    read.path("bluebuttonapi.tokenPath", c.payer_token_path);
    read.path("bluebuttonapi.fhirPath", c.payer_fhir_path);
    read.integer(eob_count_key, 1, 50, c.eob_count);
    read.integer("bluebuttonapi.coverageEndpoint.count", 1, 50, c.coverage_count);
    read.one_of(
        "bluebuttonapi.coverageEndpoint.queryParam", {"beneficiary", "patient"}, c.coverage_query_param
    );
    read.boolean("bluebuttonapi.enablePagination", c.enable_pagination);
    read.boolean("bluebuttonapi.eobEndpoint.typeFilter", c.eob_type_filter);
    read.integer("bluebuttonIntegration.batchCount", 1, 50, c.batch_count);
    read.integer("bluebuttonIntegration.maxConcurrentSyncMessages", 1, 1000, c.max_concurrent_sync_messages);
    read.https_url("hcOrg.tokenUrl", c.sf_token_url);
    read.text("hcOrg.client_id", c.sf_client_id);
    read.text("hcOrg.client_secret", c.sf_client_secret);
    read.https_url("hcOrg.instanceUrl", c.sf_instance_url);
    read.text("hcOrg.apiVersion", c.sf_api_version);
    read.address("bundle.host", c.bundle);
    read.path("bundle.path", c.bundle_path);
    read.integer("bundle.maxConcurrentCalls", 1, 5, c.max_concurrent_bundle_calls);
    read.boolean("claimData.claimDataIngestion", c.claim_data_ingestion);
    read.text("claimData.sourceAPI", c.claim_data_source_api);
    read.https_url("claimData.cdpConfig.url", c.cdp_url);
    read.text("claimData.cdpConfig.user", c.cdp_user);
    read.text("claimData.cdpConfig.password", c.cdp_password);
    read.text("claimData.cdpConfig.client_id", c.cdp_client_id);
    read.text("claimData.cdpConfig.client_secret", c.cdp_client_secret);
    read.text("claimCoverage.payor", c.claim_coverage_payor);
    read.path("database.path", c.database_path);
    read.seconds("schedule.interval", 60, 31 * 86400, c.sync_interval);
    read.path("tls.caFile", c.ca_file);
    read.log_level("log.level", c.log_level);
    read.seconds("http.resolveTimeout", 1, 300, c.resolve_timeout);
    read.seconds("http.connectTimeout", 1, 300, c.connect_timeout);
    read.seconds("http.handshakeTimeout", 1, 300, c.handshake_timeout);
    read.seconds("http.writeTimeout", 1, 600, c.write_timeout);
    read.seconds("http.readTimeout", 1, 600, c.read_timeout);
    read.seconds("http.requestTimeout", 1, 3600, c.request_timeout);
    read.seconds("job.timeout", 10, 86400, c.job_timeout);
    read.seconds("shutdown.gracePeriod", 1, 600, c.shutdown_grace_period);
    read.listen("admin.listen", c.admin_listen);
    read.listen("https.listen", c.https_listen);
    read.path("https.certFile", c.https_cert_file);
    read.path("https.keyFile", c.https_key_file);
    read.text("https.apiKey", c.https_api_key);
    read.path("tokens.keyFile", c.token_key_file);
    read.path("tokens.previousKeyFile", c.token_previous_key_file);
    read.boolean("tokens.allowPlaintext", c.token_allow_plaintext);
    find_token_keys(sources.credentials_directory, c, errors);

    if (!c.sf_api_version.starts_with('v') || c.sf_api_version.size() < 4)
    {
        if (const auto* api_version = read.find("hcOrg.apiVersion"))
        {
            read.fail("hcOrg.apiVersion", *api_version, "must look like v60.0");
        }
        else
        {
            errors.push_back("hcOrg.apiVersion = \"" + c.sf_api_version + "\": must look like v60.0");
        }
    }

    check_claim_data_login(read, c, errors);

    // The trigger API carries payer access tokens, so it speaks plain HTTP only on loopback.
    if (c.https_cert_file.empty() != c.https_key_file.empty())
    {
        const char* set_key = c.https_cert_file.empty() ? "https.keyFile" : "https.certFile";
        const auto* tls_file = read.find(set_key);
        const auto origin =
            tls_file != nullptr ? std::string(" (") + set_key + " at " + tls_file->origin + ")" : "";
        errors.push_back(
            "https.certFile and https.keyFile" + origin +
            ": set both to serve the trigger API over TLS, or neither"
        );
    }
    const bool trigger_tls = !c.https_cert_file.empty() && !c.https_key_file.empty();
    if (c.https_listen.enabled && !trigger_tls && !is_loopback_host(c.https_listen.host))
    {
        // https.listen can only be enabled by a configured value, so its origin is known.
        const auto* listen_value = read.find("https.listen");
        const auto origin = listen_value != nullptr ? " (" + listen_value->origin + ")" : std::string();
        errors.push_back(
            "https.listen = \"" + c.https_listen.host + ":" + std::to_string(c.https_listen.port) + "\"" +
            origin +
            ": plain HTTP is served only on loopback; set https.certFile and https.keyFile for TLS or "
            "listen on 127.0.0.1"
        );
    }

    if (!errors.empty())
    {
        std::string message = "invalid configuration:";
        for (const auto& line : errors)
        {
            message += "\n  " + line;
        }
        throw config_error(message);
    }
    return result;
}

}  // namespace bbsync

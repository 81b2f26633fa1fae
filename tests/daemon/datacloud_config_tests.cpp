#include <catch2/catch.hpp>

#include <string>

#include "daemon/service/config.hpp"
#include "scratch_directory.hpp"

using bbsync::config_error;
using bbsync::config_sources;
using bbsync::load_config;
using bbsync::test::scratch_directory;

namespace {

config_sources file_sources(const std::string& path)
{
    config_sources sources;
    sources.file_path = path;
    return sources;
}

// Returns the config_error message of an invalid configuration, or "" when it loads.
std::string load_error(const std::string& text)
{
    scratch_directory scratch;
    try
    {
        load_config(file_sources(scratch.write_file("bbsync.conf", text)));
    }
    catch (const config_error& e)
    {
        return e.what();
    }
    return {};
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("ingestion on requires the Data Cloud login", "[daemon][datacloud]")
{
    const auto message = load_error("claimData.claimDataIngestion = true\n");
    INFO(message);
    for (const char* key :
         {"claimData.cdpConfig.url",
          "claimData.cdpConfig.user",
          "claimData.cdpConfig.password",
          "claimData.cdpConfig.client_id",
          "claimData.cdpConfig.client_secret"})
    {
        CHECK(contains(message, std::string(key) + ": missing, but claimData.claimDataIngestion is true"));
    }
    CHECK(contains(message, "claimData.cdpConfig.passwordFile"));
}

TEST_CASE("partial Data Cloud login is rejected", "[daemon][datacloud]")
{
    const auto message = load_error("claimData.cdpConfig.url = https://login.example.com\n");
    INFO(message);
    CHECK(contains(message, "claimData.cdpConfig.user: missing, but another claimData.cdpConfig key is set"));
    CHECK_FALSE(contains(message, "claimData.cdpConfig.url:"));
}

TEST_CASE("no Data Cloud login is fine with ingestion off", "[daemon][datacloud]")
{
    CHECK(load_error("claimData.claimDataIngestion = false\n").empty());
    CHECK(load_error("").empty());
}

TEST_CASE("full Data Cloud login is read", "[daemon][datacloud]")
{
    scratch_directory scratch;
    const auto password_file = scratch.write_file("cdp-password", "from-file\n");
    const auto text = std::string("claimData.claimDataIngestion = true\n") +
                      "claimData.cdpConfig.url = https://login.example.com:8443/\n"
                      "claimData.cdpConfig.user = cdp-user\n"
                      "claimData.cdpConfig.passwordFile = " +
                      password_file +
                      "\n"
                      "claimData.cdpConfig.client_id = cdp-client\n"
                      "claimData.cdpConfig.client_secret = cdp-secret-value\n";
    const auto loaded = load_config(file_sources(scratch.write_file("bbsync.conf", text)));
    const auto& c = loaded.values;
    CHECK(c.claim_data_ingestion);
    CHECK(c.cdp_url == "https://login.example.com:8443/");
    CHECK(c.cdp_user == "cdp-user");
    CHECK(c.cdp_password == "from-file");
    CHECK(c.cdp_client_id == "cdp-client");
    CHECK(c.cdp_client_secret == "cdp-secret-value");
}

TEST_CASE("Data Cloud login URL must be https", "[daemon][datacloud]")
{
    const auto plain = load_error("claimData.cdpConfig.url = http://login.example.com\n"
                                  "claimData.cdpConfig.user = cdp-user\n"
                                  "claimData.cdpConfig.password = p\n"
                                  "claimData.cdpConfig.client_id = c\n"
                                  "claimData.cdpConfig.client_secret = s\n");
    INFO(plain);
    CHECK(contains(plain, "claimData.cdpConfig.url = \"http://login.example.com\""));
    CHECK(contains(plain, "must be an absolute https:// URL"));
    CHECK_FALSE(contains(plain, "claimData.cdpConfig.url: missing"));
}

#ifndef BBSYNC_TESTS_SECURITY_PAYER_FIXTURE_HPP
#define BBSYNC_TESTS_SECURITY_PAYER_FIXTURE_HPP

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "coro/https_client.hpp"
#include "daemon/common/failure.hpp"
#include "daemon/payer/payer_client.hpp"
#include "daemon/service/config.hpp"

namespace bbsync::test {

// The daemon's payer client, as sync_engine builds it, pointed at a loopback server and
// trusting only the test CA (tls.caFile).
struct payer_fixture
{
    // Sets bluebuttonapi.host to `host`. Throws when the CA file cannot be loaded.
    explicit payer_fixture(const std::string& host);

    // Sets the payer port and builds the payer client, which copies the origin.
    void point_at(std::uint16_t port);

    // GETs `target` with a fixed access token and returns the outcome. Throws
    // std::runtime_error when the request does not finish within 20 seconds, and
    // std::bad_optional_access before point_at().
    outcome<boost::json::value> get(const std::string& target);

    boost::asio::io_context context;
    config settings;
    coro::https_client http;
    std::optional<payer_client> payer;
};

// The access token payer_fixture sends, to check where it arrives.
inline constexpr const char* fixture_access_token = "access-token-for-security-tests";

}  // namespace bbsync::test

#endif

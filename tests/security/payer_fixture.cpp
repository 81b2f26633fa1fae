#include "payer_fixture.hpp"

#include "coro/run.hpp"
#include "test_pki.hpp"

namespace bbsync::test {
namespace {

config loopback_settings(const std::string& host, std::uint16_t port)
{
    config settings;
    settings.payer = service_address{host, port};
    settings.ca_file = test_pki::shared().ca_file();
    settings.request_timeout = std::chrono::seconds(10);
    return settings;
}

coro::https_client_options short_timeouts()
{
    coro::https_client_options options;
    options.timeouts.resolve = std::chrono::seconds(5);
    options.timeouts.connect = std::chrono::seconds(5);
    options.timeouts.handshake = std::chrono::seconds(5);
    options.timeouts.write = std::chrono::seconds(5);
    options.timeouts.read = std::chrono::seconds(10);
    return options;
}

}  // namespace

payer_fixture::payer_fixture(const std::string& host)
    : settings(loopback_settings(host, 443)),
      http(context.get_executor(), coro::make_tls_client_context(settings.ca_file), short_timeouts())
{}

void payer_fixture::point_at(std::uint16_t port)
{
    settings.payer.port = port;
    payer.emplace(http, settings);
}

outcome<boost::json::value> payer_fixture::get(const std::string& target)
{
    return coro::run_to_completion(
        context,
        payer.value().get(target, fixture_access_token),
        std::chrono::steady_clock::duration(std::chrono::seconds(20))
    );
}

}  // namespace bbsync::test

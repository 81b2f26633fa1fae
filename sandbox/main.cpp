// bbsync-sandbox: local HTTPS emulator of Blue Button 2.0, Salesforce and the Salesforce
// Healthcare API, for the demo, the integration tests and the benchmarks of bbsync.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "sandbox/fhir_time.hpp"
#include "sandbox/http_server.hpp"
#include "sandbox/options.hpp"
#include "sandbox/sandbox_state.hpp"
#include "sandbox/state_files.hpp"
#include "sandbox/tls_identity.hpp"

namespace {

namespace asio = boost::asio;
namespace sandbox = bbsync::sandbox;

// Stops the sandbox on SIGTERM or SIGINT: listeners close, then the loop ends.
struct stop_on_signal
{
    asio::io_context* io;
    std::vector<std::unique_ptr<sandbox::http_server>>* servers;

    void operator()(const boost::system::error_code& error, int signal_number) const
    {
        if (error)
            return;
        std::cerr << "bbsync-sandbox: stopping on signal " << signal_number << "\n";
        for (auto& server : *servers)
            server->close();
        io->stop();
    }
};

int run(const sandbox::options& settings)
{
    // State directory, data, TLS identity.
    std::filesystem::create_directories(settings.state_dir);
    sandbox::sandbox_state state(settings, sandbox::now_epoch_ms());
    const auto identity = sandbox::generate_tls_identity();
    sandbox::write_file_atomically(settings.state_dir / "ca.pem", identity.ca_certificate_pem);
    auto tls = sandbox::make_server_context(identity);

    // Listeners, one per emulated host.
    asio::io_context io(1);
    std::vector<std::unique_ptr<sandbox::http_server>> servers;
    for (const auto host : sandbox::all_hosts)
    {
        servers.push_back(std::make_unique<sandbox::http_server>(io, tls, state, host));
        state.ports[static_cast<std::size_t>(host)] = servers.back()->port();
        servers.back()->start();
    }
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait(stop_on_signal{&io, &servers});

    // patients.json first: sandbox.json means everything is in place.
    sandbox::write_patients_file(settings.state_dir, state);
    sandbox::write_ready_file(settings.state_dir, state);
    std::cerr << "bbsync-sandbox: started with " << settings.patients << " patients, "
              << settings.eobs_per_patient << " EOBs each; payer port "
              << state.port(sandbox::host_kind::payer) << ", salesforce port "
              << state.port(sandbox::host_kind::salesforce) << ", healthcloud port "
              << state.port(sandbox::host_kind::healthcloud) << ", datacloud port "
              << state.port(sandbox::host_kind::datacloud) << "; payer mode "
              << sandbox::to_string(settings.mode) << "\n";

    io.run();
    std::cerr << "bbsync-sandbox: stopped\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const auto outcome = sandbox::parse_options(argc, argv);
    if (std::holds_alternative<sandbox::help_requested>(outcome))
    {
        std::cout << sandbox::help_text();
        return 0;
    }
    if (const auto* invalid = std::get_if<sandbox::invalid_options>(&outcome))
    {
        std::cerr << "bbsync-sandbox: " << invalid->message << "\n";
        return 2;
    }
    try
    {
        return run(std::get<sandbox::options>(outcome));
    }
    catch (const std::exception& e)
    {
        std::cerr << "bbsync-sandbox: failed: " << e.what() << "\n";
        return 1;
    }
}

#include "daemon/service/service_runner.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/this_coro.hpp>

#include <unistd.h>

#include "daemon/api/admin_routes.hpp"
#include "daemon/api/gauge_collector.hpp"
#include "daemon/api/http_listener.hpp"
#include "daemon/api/trigger_api.hpp"
#include "daemon/service/cli.hpp"
#include "daemon/service/log.hpp"
#include "daemon/service/notify.hpp"
#include "daemon/sync/sync_engine.hpp"

namespace asio = boost::asio;

namespace bbsync {
namespace {

// Returns " (FILE:LINE)" for a configured listen address, or "" for a default.
std::string origin_suffix(const listen_address& address)
{
    return address.origin.empty() ? std::string() : " (" + address.origin + ")";
}

// Pause between two scheduler passes; a stop request ends it early.
constexpr auto pass_interval = std::chrono::seconds(30);

std::string status_line(const run_totals& totals)
{
    return "last pass: " + std::to_string(totals.jobs) + " jobs, " + std::to_string(totals.completed) +
           " Completed, " + std::to_string(totals.partially_completed) + " PartiallyCompleted, " +
           std::to_string(totals.failed) + " Failed, " + std::to_string(totals.mirrored) + " mirrored";
}

coro::awaitable<run_totals> scheduler_loop(sync_engine& engine)
{
    coro::steady_timer pause(co_await asio::this_coro::executor);
    run_totals all;
    while (!engine.stopping())
    {
        notify::send("STATUS=running a sync pass");
        const auto totals = co_await engine.run_once();
        all.jobs += totals.jobs;
        all.completed += totals.completed;
        all.partially_completed += totals.partially_completed;
        all.failed += totals.failed;
        all.mirrored += totals.mirrored;
        notify::send("STATUS=" + status_line(totals));

        // Sleep in one-second steps so that a stop request is noticed quickly.
        for (auto waited = std::chrono::seconds(0); waited < pass_interval && !engine.stopping(); ++waited)
        {
            pause.expires_after(std::chrono::seconds(1));
            auto [ec] = co_await pause.async_wait();
            if (ec)
            {
                co_return all;
            }
        }
    }
    co_return all;
}

// Runs the scheduler, then waits for the jobs the trigger API started.
coro::awaitable<run_totals> scheduler_and_api_jobs(sync_engine& engine)
{
    auto totals = co_await scheduler_loop(engine);
    co_await engine.wait_api_jobs();
    co_return totals;
}

std::string listen_text(const std::string& host, std::uint16_t port)
{
    return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                               : host + ":" + std::to_string(port);
}

// The admin endpoint and the trigger API of one scheduler run.
struct listeners
{
    std::unique_ptr<api::trigger_api> trigger;
    std::unique_ptr<api::http_listener> admin_listener;
    std::unique_ptr<api::http_listener> trigger_listener;

    void close() noexcept
    {
        if (admin_listener)
        {
            admin_listener->close();
        }
        if (trigger_listener)
        {
            trigger_listener->close();
        }
    }
};

// Binds the configured listeners and logs their addresses with the bound ports, so that port
// 0 can be used. Throws config_error when the trigger API has no API key, an address cannot
// be bound or the TLS files cannot be loaded.
listeners open_listeners(
    asio::io_context& context,
    const config& settings,
    store::database& db,
    sync_engine& engine,
    const bool& ready
)
{
    if (settings.https_listen.enabled && settings.https_api_key.empty())
    {
        throw config_error(
            "https.listen is set but no API key is configured: set https.apiKeyFile or the systemd "
            "credential https.apiKey"
        );
    }

    listeners opened;
    if (settings.admin_listen.enabled)
    {
        api::admin_status status;
        status.ready = [&ready] { return ready; };
        status.stopping = [&engine] { return engine.stopping(); };
        status.metrics_text = [&db, &engine] {
            return engine.metrics().render(api::collect_gauges(db, engine.tokens().refreshes()));
        };
        try
        {
            opened.admin_listener = std::make_unique<api::http_listener>(
                context.get_executor(),
                "admin",
                settings.admin_listen.host,
                settings.admin_listen.port,
                nullptr,
                [status](const api::http_request& request) {
                    return api::handle_admin_request(request, status);
                }
            );
        }
        catch (const boost::system::system_error& e)
        {
            throw config_error(
                "admin.listen = " + listen_text(settings.admin_listen.host, settings.admin_listen.port) +
                origin_suffix(settings.admin_listen) + ": cannot listen (" + e.code().message() +
                "); choose a free port or set admin.listen = off"
            );
        }
        log::info(
            "admin",
            "listening on http://" + listen_text(settings.admin_listen.host, opened.admin_listener->port())
        );
    }
    if (settings.https_listen.enabled)
    {
        std::shared_ptr<asio::ssl::context> tls;
        if (!settings.https_cert_file.empty() && !settings.https_key_file.empty())
        {
            try
            {
                tls = api::make_tls_server_context(settings.https_cert_file, settings.https_key_file);
            }
            catch (const boost::system::system_error& e)
            {
                throw config_error(
                    "https.certFile = " + settings.https_cert_file + ", https.keyFile = " +
                    settings.https_key_file + ": cannot load the TLS certificate or key (" +
                    e.code().message() + "); check that both are PEM files readable by bbsync"
                );
            }
        }
        auto prefix = settings.https_entry_path;
        if (!prefix.empty() && prefix.back() == '*')
        {
            prefix.pop_back();
        }
        opened.trigger = std::make_unique<api::trigger_api>(engine, prefix, settings.https_api_key);
        auto* trigger = opened.trigger.get();
        try
        {
            opened.trigger_listener = std::make_unique<api::http_listener>(
                context.get_executor(),
                "api",
                settings.https_listen.host,
                settings.https_listen.port,
                tls,
                [trigger](const api::http_request& request) { return trigger->handle(request); }
            );
        }
        catch (const boost::system::system_error& e)
        {
            throw config_error(
                "https.listen = " + listen_text(settings.https_listen.host, settings.https_listen.port) +
                origin_suffix(settings.https_listen) + ": cannot listen (" + e.code().message() +
                "); choose a free port or set https.listen = off"
            );
        }
        log::info(
            "api",
            std::string("listening on ") + (tls ? "https://" : "http://") +
                listen_text(settings.https_listen.host, opened.trigger_listener->port()) + prefix + "$sync"
        );
    }
    return opened;
}

coro::awaitable<void> watchdog_loop(std::chrono::microseconds interval)
{
    // Sent from the event loop itself, so a blocked loop stops the pings and systemd
    // restarts the service.
    coro::steady_timer timer(co_await asio::this_coro::executor);
    for (;;)
    {
        notify::send("WATCHDOG=1");
        timer.expires_after(interval / 2);
        auto [ec] = co_await timer.async_wait();
        if (ec)
        {
            co_return;
        }
    }
}

}  // namespace

int run_service(
    const config& settings,
    store::database& db,
    run_mode mode,
    const std::optional<std::string>& sf_patient_id
)
{
    asio::io_context context(1);
    sync_engine engine(context.get_executor(), settings, db);
    engine.recover_interrupted_jobs();

    std::optional<patient_record> single;
    if (mode == run_mode::patient)
    {
        single = engine.repo().find_patient_by_sf_id(sf_patient_id.value_or(""));
        if (!single)
        {
            throw config_error(
                "patient " + sf_patient_id.value_or("") + " is not registered; see bbsync patient list"
            );
        }
    }

    // Listeners serve only the scheduler, which runs until stopped.
    bool ready = false;
    listeners opened;
    if (mode == run_mode::scheduler)
    {
        opened = open_listeners(context, settings, db, engine, ready);
        if (opened.admin_listener)
        {
            opened.admin_listener->start();
        }
        if (opened.trigger_listener)
        {
            opened.trigger_listener->start();
        }
    }

    // Signals: the first stops new work and starts the grace period, the second (or the end
    // of the grace period) cancels what still runs.
    asio::cancellation_signal cancel_work;
    asio::cancellation_signal cancel_watchdog;
    asio::signal_set signals(context, SIGTERM, SIGINT);
    coro::steady_timer grace(context);
    bool work_done = false;
    std::function<void(const boost::system::error_code&, int)> on_signal;
    on_signal = [&](const boost::system::error_code& ec, int number) {
        if (ec || work_done)
        {
            return;
        }
        if (!engine.stopping())
        {
            log::notice(
                "bbsync",
                "received signal " + std::to_string(number) + "; no new jobs, running jobs get " +
                    std::to_string(settings.shutdown_grace_period.count()) + " s to finish"
            );
            notify::send("STOPPING=1");
            engine.stop();
            grace.expires_after(settings.shutdown_grace_period);
            grace.async_wait([&](const boost::system::error_code& timer_ec) {
                if (!timer_ec && !work_done)
                {
                    log::warning("bbsync", "grace period over; cancelling the jobs still running");
                    cancel_work.emit(asio::cancellation_type::terminal);
                }
            });
        }
        else
        {
            log::warning("bbsync", "second signal; cancelling the jobs still running");
            cancel_work.emit(asio::cancellation_type::terminal);
        }
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);

    // The work itself, as the root task: an exception here ends the process with an error.
    std::exception_ptr failure;
    run_totals totals;
    auto on_done = [&](std::exception_ptr error, run_totals result) {
        work_done = true;
        failure = error;
        totals = result;
        signals.cancel();
        grace.cancel();
        cancel_watchdog.emit(asio::cancellation_type::terminal);
        if (error || opened.admin_listener || opened.trigger_listener)
        {
            // Open sessions, and after a failure pooled connections and jobs that never got to
            // close them, would keep the loop running.
            opened.close();
            context.stop();
        }
    };
    if (mode != run_mode::scheduler)
    {
        engine.show_progress_on(STDERR_FILENO);
    }
    auto work = [&]() -> coro::awaitable<run_totals> {
        if (mode == run_mode::scheduler)
        {
            return scheduler_and_api_jobs(engine);
        }
        if (mode == run_mode::patient)
        {
            return engine.run_patient(*single);
        }
        return engine.run_once();
    };
    asio::co_spawn(context, work(), asio::bind_cancellation_slot(cancel_work.slot(), on_done));

    if (auto interval = notify::watchdog_interval())
    {
        asio::co_spawn(
            context,
            watchdog_loop(*interval),
            asio::bind_cancellation_slot(cancel_watchdog.slot(), asio::detached)
        );
    }

    ready = true;
    notify::send("READY=1\nSTATUS=started");
    log::info(
        "bbsync",
        std::string("started ") + (mode == run_mode::scheduler ? "the scheduler"
                                   : mode == run_mode::once    ? "a single pass"
                                                               : "one job")
    );
    context.run();

    if (failure)
    {
        std::rethrow_exception(failure);
    }
    const bool stopped = engine.stopping();
    notify::send("STOPPING=1\nSTATUS=" + status_line(totals));
    log::info("bbsync", std::string("stopped") + (stopped ? " on request; " : "; ") + status_line(totals));
    if (mode != run_mode::scheduler && !stopped && totals.failed > 0)
    {
        return exit_failure;
    }
    return exit_ok;
}

}  // namespace bbsync

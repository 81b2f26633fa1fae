#ifndef BBSYNC_DAEMON_SERVICE_SERVICE_RUNNER_HPP
#define BBSYNC_DAEMON_SERVICE_SERVICE_RUNNER_HPP

#include <optional>
#include <string>

#include "daemon/service/config.hpp"
#include "store/database.hpp"

namespace bbsync {

enum class run_mode
{
    once,       // one pass over every due patient, then exit
    scheduler,  // passes on schedule until SIGTERM or SIGINT
    patient,    // one job for one patient now, due or not
};

// Runs the sync engine on one io_context with the service contract around it: jobs left
// InProgress by an earlier process are failed first; READY=1, STATUS= and STOPPING=1 go to
// systemd when NOTIFY_SOCKET is set; WATCHDOG=1 is sent from the event loop at half of
// WATCHDOG_USEC; the first SIGTERM or SIGINT stops new jobs and lets running ones finish for
// shutdown.gracePeriod, after which (or on a second signal) they are cancelled and recorded as
// Failed, so that no job stays InProgress. In `scheduler` mode the admin endpoint
// (admin.listen) and the trigger API (https.listen) are served on the same io_context, and
// /readyz turns 503 once a stop starts.
//
// Returns exit_ok, or exit_failure when a job Failed in `once` or `patient` mode (not when it
// failed because of a stop). Throws config_error when `sf_patient_id` is unknown or a
// listener cannot be opened, and store::error on database failures.
int run_service(
    const config& settings,
    store::database& db,
    run_mode mode,
    const std::optional<std::string>& sf_patient_id = std::nullopt
);

}  // namespace bbsync

#endif

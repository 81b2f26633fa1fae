#ifndef BBSYNC_DAEMON_SERVICE_DEMO_HPP
#define BBSYNC_DAEMON_SERVICE_DEMO_HPP

namespace bbsync {

struct demo_options
{
    int patients = 100;
    int eobs_per_patient = 16;
    bool keep = false;  // leave the temporary folder for inspection
};

// Runs `bbsync demo`: starts bbsync-sandbox (found next to this binary or in the build
// tree), creates a temporary database with the sandbox's patients, runs one sync against
// it, prints the job table and the sandbox's counts, and removes what it created. Returns
// exit_ok when every job Completed and the sandbox contains one Encounter per EOB with no
// duplicate, exit_failure otherwise. Never throws.
int run_demo(const demo_options& options);

}  // namespace bbsync

#endif

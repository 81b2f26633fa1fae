#ifndef BBSYNC_DAEMON_SERVICE_CLI_HPP
#define BBSYNC_DAEMON_SERVICE_CLI_HPP

namespace bbsync {

// Exit codes of the bbsync command.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;           // a runtime failure, e.g. a job Failed
inline constexpr int exit_usage = 2;             // bad command line or configuration
inline constexpr int exit_storage_failure = 74;  // the database could not be written (EX_IOERR)

// Keeps PHI out of core dumps: sets RLIMIT_CORE to 0 and, outside sanitizer builds, marks the
// process non-dumpable, which also stops other processes of the same user from reading its
// memory. Returns false when a step failed. Never throws.
bool disable_core_dumps() noexcept;

// Runs the bbsync command line. Errors are printed to stderr as one line that states what
// to do. Never throws.
int run_cli(int argc, char** argv);

}  // namespace bbsync

#endif

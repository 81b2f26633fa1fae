#ifndef BBSYNC_TESTS_INTEGRATION_CHILD_PROCESS_HPP
#define BBSYNC_TESTS_INTEGRATION_CHILD_PROCESS_HPP

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace bbsync::integration_tests {

// How to start one child process and where its streams go.
struct process_spec
{
    // The executable path first, then its arguments.
    std::vector<std::string> arguments;
    // Standard input is read from this file, or from /dev/null when the path is empty.
    std::filesystem::path stdin_path;
    // Standard output is written to this file and returned in process_result::output.
    std::filesystem::path stdout_path;
    // Standard error is written to this file, or to /dev/null when the path is empty.
    std::filesystem::path stderr_path;
    // The child's process group is killed with SIGKILL when it runs longer than this.
    std::chrono::seconds timeout{60};
};

// The exit of a child that ended within its timeout.
struct process_result
{
    // The exit status, or 128 + signal number when a signal ended the child.
    int exit_code = -1;
    std::string output;
};

// Runs a child in its own process group without the parent's BBSYNC_* environment variables
// and waits for it. Returns its exit code and standard output. Throws std::runtime_error when
// the child cannot be started or does not exit within spec.timeout, after killing its whole
// process group with SIGKILL.
process_result run_process(const process_spec& spec);

// Starts a child in its own process group like run_process but does not wait. Returns the
// process id. The child gets SIGTERM when the test process dies. Throws std::runtime_error
// when fork fails.
int start_process(const process_spec& spec);

// Waits up to `timeout` for the child to exit. Returns its exit code, or -1 when it is still
// running at the deadline. Throws std::runtime_error when waitpid fails.
int wait_for_exit(int pid, std::chrono::milliseconds timeout);

// Sends SIGTERM to the child's process group, waits up to `grace`, then sends SIGKILL and
// waits. Returns the exit code. Never throws, so destructors can call it.
int stop_process(int pid, std::chrono::milliseconds grace) noexcept;

}  // namespace bbsync::integration_tests

#endif

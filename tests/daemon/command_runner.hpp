#ifndef BBSYNC_TESTS_DAEMON_COMMAND_RUNNER_HPP
#define BBSYNC_TESTS_DAEMON_COMMAND_RUNNER_HPP

#include <filesystem>
#include <string>
#include <vector>

namespace bbsync::test {

struct command_result
{
    int exit_code = -1;  // -1 when the process ended by a signal
    std::string out;
    std::string err;
};

// Runs `arguments` (the first is the executable's path) with `input` on standard input and
// an environment containing only PATH, waits for it and returns its exit code and output.
// Standard input, output and error pass through files created in `scratch`. Throws
// std::system_error when the process cannot be started.
command_result run_command(
    const std::vector<std::string>& arguments, const std::string& input, const std::filesystem::path& scratch
);

}  // namespace bbsync::test

#endif

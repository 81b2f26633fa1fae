#include "command_runner.hpp"

#include <fcntl.h>
#include <spawn.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <system_error>

namespace bbsync::test {
namespace {

std::string read_whole_file(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace

command_result run_command(
    const std::vector<std::string>& arguments, const std::string& input, const std::filesystem::path& scratch
)
{
    const auto input_file = scratch / "command.stdin";
    const auto output_file = scratch / "command.stdout";
    const auto error_file = scratch / "command.stderr";
    {
        std::ofstream in(input_file, std::ios::binary | std::ios::trunc);
        in << input;
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, input_file.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, error_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);

    std::vector<char*> argv;
    for (const auto& argument : arguments)
    {
        argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    std::string path_variable = "PATH=/usr/bin:/bin";
    char* envp[] = {path_variable.data(), nullptr};

    pid_t child = 0;
    const int spawned = posix_spawn(&child, argv.front(), &actions, nullptr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0)
    {
        throw std::system_error(spawned, std::generic_category(), "failed to start " + arguments.front());
    }

    int status = 0;
    while (waitpid(child, &status, 0) < 0)
    {
        if (errno != EINTR)
        {
            throw std::system_error(
                errno, std::generic_category(), "failed to wait for " + arguments.front()
            );
        }
    }
    command_result result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_whole_file(output_file);
    result.err = read_whole_file(error_file);
    return result;
}

}  // namespace bbsync::test

#include "child_process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace bbsync::integration_tests {
namespace {

constexpr std::chrono::milliseconds poll_interval{10};

// The parent's environment without BBSYNC_* variables, which would override the test's
// configuration file.
std::vector<std::string> child_environment()
{
    std::vector<std::string> variables;
    for (char** entry = environ; *entry != nullptr; ++entry)
    {
        if (std::strncmp(*entry, "BBSYNC_", 7) != 0)
        {
            variables.emplace_back(*entry);
        }
    }
    return variables;
}

std::vector<char*> pointers_to(std::vector<std::string>& texts)
{
    std::vector<char*> pointers;
    for (auto& text : texts)
    {
        pointers.push_back(text.data());
    }
    pointers.push_back(nullptr);
    return pointers;
}

// Replaces `target` with `path` opened with `flags`. Exits the child with 127 on failure.
void redirect(int target, const std::filesystem::path& path, int flags)
{
    const auto name = path.empty() ? std::string("/dev/null") : path.string();
    const int fd = ::open(name.c_str(), flags, 0600);
    if (fd < 0 || ::dup2(fd, target) < 0)
    {
        std::_Exit(127);
    }
    ::close(fd);
}

int exit_code_of(int status)
{
    if (WIFEXITED(status))
    {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status))
    {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

std::string read_text(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

int start_process(const process_spec& spec)
{
    if (spec.arguments.empty())
    {
        throw std::runtime_error("run_process needs at least the executable path");
    }
    auto arguments = spec.arguments;
    auto environment = child_environment();
    auto argv = pointers_to(arguments);
    auto envp = pointers_to(environment);

    const pid_t pid = ::fork();
    if (pid < 0)
    {
        throw std::runtime_error("fork failed for " + spec.arguments.front() + ": " + std::strerror(errno));
    }
    if (pid == 0)
    {
        // A group of its own lets a timeout kill grandchildren too, such as the sandbox that
        // `bbsync demo` starts.
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        redirect(STDIN_FILENO, spec.stdin_path, O_RDONLY);
        redirect(STDOUT_FILENO, spec.stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
        redirect(STDERR_FILENO, spec.stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
        ::execve(argv[0], argv.data(), envp.data());
        std::_Exit(127);
    }
    // Also set here, so a kill of the group right after fork cannot miss the child.
    ::setpgid(pid, pid);
    return pid;
}

int wait_for_exit(int pid, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;)
    {
        int status = 0;
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid)
        {
            return exit_code_of(status);
        }
        if (done < 0)
        {
            throw std::runtime_error(
                "waitpid failed for process " + std::to_string(pid) + ": " + std::strerror(errno)
            );
        }
        if (std::chrono::steady_clock::now() >= deadline)
        {
            return -1;
        }
        std::this_thread::sleep_for(poll_interval);
    }
}

int stop_process(int pid, std::chrono::milliseconds grace) noexcept
{
    if (pid <= 0)
    {
        return -1;
    }
    ::kill(-pid, SIGTERM);
    ::kill(pid, SIGTERM);
    try
    {
        const int code = wait_for_exit(pid, grace);
        if (code >= 0)
        {
            return code;
        }
    }
    catch (const std::exception&)
    {
        return -1;
    }
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return exit_code_of(status);
}

process_result run_process(const process_spec& spec)
{
    const int pid = start_process(spec);
    const int code = wait_for_exit(pid, spec.timeout);
    if (code < 0)
    {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        throw std::runtime_error(
            spec.arguments.front() + " did not exit within " + std::to_string(spec.timeout.count()) +
            " s and was killed; its standard error is in " + spec.stderr_path.string()
        );
    }
    process_result result;
    result.exit_code = code;
    if (!spec.stdout_path.empty())
    {
        result.output = read_text(spec.stdout_path);
    }
    return result;
}

}  // namespace bbsync::integration_tests

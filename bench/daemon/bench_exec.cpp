// Runs one program and measures that process alone: wall time, user and system CPU seconds and
// peak resident set size, read with wait4(). With --ready it also binds a datagram socket, passes
// it as NOTIFY_SOCKET and records when the program first sends READY=1.
//
// Usage: bench_exec [--ready] -- PROGRAM [ARGUMENT]...
// Prints one line of key=value pairs on standard output:
//   wall_s user_s sys_s max_rss_kb ready_ms exit
// ready_ms is -1 without --ready or when READY=1 never arrived. exit is the exit status, or 128
// plus the signal number when the program was killed. The program's own standard streams are
// inherited, so redirect them around this command.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_of(const timeval& value)
{
    return static_cast<double>(value.tv_sec) + static_cast<double>(value.tv_usec) / 1e6;
}

// Binds an abstract-namespace datagram socket and returns its descriptor, or -1 on failure.
// The name starts with '@' in NOTIFY_SOCKET notation.
int bind_notify_socket(std::string& name)
{
    name = "@bbsync-bench-" + std::to_string(getpid());
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
    {
        return -1;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, name.data() + 1, name.size() - 1);
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0)
    {
        close(fd);
        return -1;
    }
    return fd;
}

// Reads every pending datagram and returns true when one of them contains a READY=1 line.
bool drain_ready(int fd)
{
    bool ready = false;
    char buffer[4096];
    for (;;)
    {
        const auto received = recv(fd, buffer, sizeof buffer - 1, 0);
        if (received <= 0)
        {
            return ready;
        }
        const std::string_view message(buffer, static_cast<std::size_t>(received));
        std::size_t start = 0;
        while (start <= message.size())
        {
            auto end = message.find('\n', start);
            if (end == std::string_view::npos)
            {
                end = message.size();
            }
            if (message.substr(start, end - start) == "READY=1")
            {
                ready = true;
            }
            start = end + 1;
        }
    }
}

}  // namespace

int main(int argc, char** argv)
{
    bool want_ready = false;
    int first = 1;
    for (; first < argc; ++first)
    {
        const std::string_view argument(argv[first]);
        if (argument == "--ready")
        {
            want_ready = true;
        }
        else if (argument == "--")
        {
            ++first;
            break;
        }
        else
        {
            std::fprintf(
                stderr,
                "bench_exec: unknown option %s; usage: bench_exec [--ready] -- PROGRAM ...\n",
                argv[first]
            );
            return 2;
        }
    }
    if (first >= argc)
    {
        std::fprintf(stderr, "bench_exec: no program given; usage: bench_exec [--ready] -- PROGRAM ...\n");
        return 2;
    }

    std::string socket_name;
    int notify_fd = -1;
    if (want_ready)
    {
        notify_fd = bind_notify_socket(socket_name);
        if (notify_fd < 0)
        {
            std::perror("bench_exec: cannot bind the notify socket");
            return 1;
        }
    }

    const auto started = clock_type::now();
    const pid_t child = fork();
    if (child < 0)
    {
        std::perror("bench_exec: fork failed");
        return 1;
    }
    if (child == 0)
    {
        if (want_ready)
        {
            setenv("NOTIFY_SOCKET", socket_name.c_str(), 1);
        }
        else
        {
            unsetenv("NOTIFY_SOCKET");
        }
        execvp(argv[first], argv + first);
        std::fprintf(stderr, "bench_exec: cannot run %s: %s\n", argv[first], std::strerror(errno));
        _exit(127);
    }

    // Ctrl-C reaches the child too, because both share the process group. Ignoring it here lets
    // this process still report the child's figures.
    signal(SIGINT, SIG_IGN);
    double ready_ms = -1;
    int status = 0;
    rusage usage{};
    for (;;)
    {
        if (notify_fd >= 0)
        {
            pollfd watched{notify_fd, POLLIN, 0};
            if (poll(&watched, 1, 5) > 0 && drain_ready(notify_fd) && ready_ms < 0)
            {
                ready_ms = std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
            }
        }
        const pid_t done = wait4(child, &status, notify_fd >= 0 ? WNOHANG : 0, &usage);
        if (done == child)
        {
            break;
        }
        if (done < 0 && errno != EINTR)
        {
            std::perror("bench_exec: wait4 failed");
            return 1;
        }
    }
    const double wall = std::chrono::duration<double>(clock_type::now() - started).count();
    if (notify_fd >= 0 && drain_ready(notify_fd) && ready_ms < 0)
    {
        // The datagram arrived between the last poll and the exit, so the wall time is an upper bound.
        ready_ms = wall * 1000;
    }
    const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::printf(
        "wall_s=%.3f user_s=%.3f sys_s=%.3f max_rss_kb=%ld ready_ms=%.1f exit=%d\n",
        wall,
        seconds_of(usage.ru_utime),
        seconds_of(usage.ru_stime),
        usage.ru_maxrss,
        ready_ms,
        exit_code
    );
    return 0;
}

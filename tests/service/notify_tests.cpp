#include <catch2/catch.hpp>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <vector>

#include "service_test_support.hpp"

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

struct datagram
{
    clock_type::time_point received;
    std::string text;
};

// A bound AF_UNIX datagram socket playing systemd's notify socket.
class notify_listener
{
public:
    explicit notify_listener(const std::string& path) : path_(path)
    {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~notify_listener()
    {
        close(fd_);
        unlink(path_.c_str());
    }

    // Collects datagrams until `deadline`.
    void collect_until(clock_type::time_point deadline, std::vector<datagram>& out) const
    {
        while (clock_type::now() < deadline)
        {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
            pollfd entry{fd_, POLLIN, 0};
            if (poll(&entry, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0)
            {
                continue;
            }
            char buffer[4096];
            const auto size = recv(fd_, buffer, sizeof buffer, 0);
            if (size > 0)
            {
                out.push_back({clock_type::now(), std::string(buffer, static_cast<std::size_t>(size))});
            }
        }
    }

private:
    std::string path_;
    int fd_ = -1;
};

bool contains(const std::vector<datagram>& messages, const std::string& needle)
{
    for (const auto& message : messages)
    {
        if (message.text.find(needle) != std::string::npos)
        {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("service notifies READY, STATUS, WATCHDOG and STOPPING", "[service]")
{
    bbsync::test::temp_folder folder;
    const auto config = folder.write(
        "bbsync.conf",
        "bluebuttonapi.host = 127.0.0.1:9\n"
        "bluebuttonapi.clientId = test-client\n"
        "bluebuttonapi.clientSecret = test-secret\n"
        "hcOrg.tokenUrl = https://127.0.0.1:9/services/oauth2/token\n"
        "hcOrg.client_id = test-app\n"
        "hcOrg.client_secret = test-app-secret\n"
        "admin.listen = off\n"
        "database.path = " +
            (folder.path() / "bbsync.db").string() + "\n"
    );
    const auto socket_path = (folder.path() / "notify.sock").string();
    notify_listener listener(socket_path);

    // Start `bbsync run` with systemd's environment: a notify socket and a 400 ms watchdog.
    std::vector<std::string> environment = {
        "NOTIFY_SOCKET=" + socket_path,
        "WATCHDOG_USEC=400000",
        "PATH=/usr/bin:/bin",
    };
    std::vector<char*> envp;
    for (auto& entry : environment)
    {
        envp.push_back(entry.data());
    }
    envp.push_back(nullptr);
    std::string binary = BBSYNC_EXECUTABLE;
    std::string config_option = "--config";
    std::string config_path = config.string();
    std::string command = "run";
    std::vector<char*> argv = {
        binary.data(), config_option.data(), config_path.data(), command.data(), nullptr};
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, binary.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0);

    std::vector<datagram> running;
    listener.collect_until(clock_type::now() + std::chrono::milliseconds(1500), running);
    const auto stop_sent = clock_type::now();
    kill(pid, SIGTERM);
    std::vector<datagram> stopping;
    listener.collect_until(clock_type::now() + std::chrono::milliseconds(2500), stopping);
    int status = 0;
    const pid_t waited = waitpid(pid, &status, WNOHANG);
    if (waited == 0)
    {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }

    REQUIRE_FALSE(running.empty());
    CHECK(running.front().text.starts_with("READY=1"));
    CHECK(contains(running, "STATUS="));
    CHECK_FALSE(contains(running, "STOPPING=1"));

    // The watchdog is fed at half the interval, so no gap reaches the full 400 ms.
    std::vector<clock_type::time_point> pings;
    for (const auto& message : running)
    {
        if (message.text == "WATCHDOG=1")
        {
            pings.push_back(message.received);
        }
    }
    REQUIRE(pings.size() >= 3);
    for (std::size_t i = 1; i < pings.size(); ++i)
    {
        CHECK(pings[i] - pings[i - 1] < std::chrono::milliseconds(400));
    }

    CHECK(contains(stopping, "STOPPING=1"));
    REQUIRE(waited == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    (void)stop_sent;
}

#include "daemon/service/notify.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>

namespace bbsync::notify {

bool send(std::string_view state)
{
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || (path[0] != '/' && path[0] != '@'))
    {
        return false;
    }
    const std::size_t length = std::strlen(path);
    sockaddr_un address{};
    if (length >= sizeof address.sun_path)
    {
        return false;
    }
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path, length);
    if (path[0] == '@')
    {
        address.sun_path[0] = '\0';
    }

    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
    {
        return false;
    }
    const auto address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
    const auto sent = sendto(
        fd,
        state.data(),
        state.size(),
        MSG_NOSIGNAL,
        reinterpret_cast<const sockaddr*>(&address),
        address_length
    );
    close(fd);
    return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> watchdog_interval()
{
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (usec == nullptr)
    {
        return std::nullopt;
    }
    if (const char* pid = std::getenv("WATCHDOG_PID"))
    {
        if (std::to_string(getpid()) != pid)
        {
            return std::nullopt;
        }
    }
    long long value = 0;
    const auto* end = usec + std::strlen(usec);
    auto [last, ec] = std::from_chars(usec, end, value);
    if (ec != std::errc() || last != end || value <= 0)
    {
        return std::nullopt;
    }
    return std::chrono::microseconds(value);
}

}  // namespace bbsync::notify

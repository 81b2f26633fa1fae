#include "notify_listener.hpp"

#include <poll.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>

namespace bbsync::reliability_tests {

notify_listener::notify_listener(const std::filesystem::path& path) : path_(path)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const auto text = path.string();
    if (text.size() >= sizeof(address.sun_path))
    {
        throw std::runtime_error("notify socket path is too long for sockaddr_un: " + text);
    }
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0)
    {
        const std::string reason = std::strerror(errno);
        if (fd_ >= 0)
        {
            ::close(fd_);
        }
        throw std::runtime_error("failed to bind a datagram socket at " + text + ": " + reason);
    }
    thread_ = std::thread([this] { receive_loop(); });
}

notify_listener::~notify_listener()
{
    stop_ = true;
    thread_.join();
    ::close(fd_);
}

std::vector<std::chrono::steady_clock::time_point> notify_listener::watchdog_pings() const
{
    const std::lock_guard lock(mutex_);
    return pings_;
}

int notify_listener::datagrams() const
{
    const std::lock_guard lock(mutex_);
    return datagrams_;
}

void notify_listener::receive_loop()
{
    std::array<char, 4096> buffer{};
    while (!stop_)
    {
        pollfd waiting{fd_, POLLIN, 0};
        if (::poll(&waiting, 1, 50) <= 0)
        {
            continue;
        }
        const auto received = ::recv(fd_, buffer.data(), buffer.size(), 0);
        if (received <= 0)
        {
            continue;
        }
        const std::string message(buffer.data(), static_cast<std::size_t>(received));
        const std::lock_guard lock(mutex_);
        ++datagrams_;
        if (message.find("WATCHDOG=1") != std::string::npos)
        {
            pings_.push_back(std::chrono::steady_clock::now());
        }
    }
}

}  // namespace bbsync::reliability_tests

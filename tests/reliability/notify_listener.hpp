#ifndef BBSYNC_TESTS_RELIABILITY_NOTIFY_LISTENER_HPP
#define BBSYNC_TESTS_RELIABILITY_NOTIFY_LISTENER_HPP

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bbsync::reliability_tests {

// A datagram socket that replaces systemd's NOTIFY_SOCKET and records when each
// WATCHDOG=1 message arrived, on a thread of its own.
class notify_listener
{
public:
    // Binds a Unix datagram socket at `path`. Throws std::runtime_error when it cannot.
    explicit notify_listener(const std::filesystem::path& path);
    ~notify_listener();
    notify_listener(const notify_listener&) = delete;
    notify_listener& operator=(const notify_listener&) = delete;

    // Arrival times of the WATCHDOG=1 datagrams so far.
    std::vector<std::chrono::steady_clock::time_point> watchdog_pings() const;

    // Number of datagrams of any kind received so far.
    int datagrams() const;

    const std::filesystem::path& path() const { return path_; }

private:
    void receive_loop();

    std::filesystem::path path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<std::chrono::steady_clock::time_point> pings_;
    int datagrams_ = 0;
    std::thread thread_;
};

}  // namespace bbsync::reliability_tests

#endif

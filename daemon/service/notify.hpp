#ifndef BBSYNC_DAEMON_SERVICE_NOTIFY_HPP
#define BBSYNC_DAEMON_SERVICE_NOTIFY_HPP

#include <chrono>
#include <optional>
#include <string_view>

namespace bbsync::notify {

// Sends one sd_notify(3) state string ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1")
// as a datagram to $NOTIFY_SOCKET (a path, or an abstract socket when it starts with '@').
// Returns false when NOTIFY_SOCKET is unset (not run by systemd) or the send failed; never
// throws. The datagram protocol is documented as stable by systemd.
bool send(std::string_view state);

// Returns the watchdog interval from $WATCHDOG_USEC when $WATCHDOG_PID is unset or names this
// process, or nullopt when no watchdog is configured or the value is invalid.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace bbsync::notify

#endif

#ifndef BBSYNC_DAEMON_COMMON_FAILPOINT_HPP
#define BBSYNC_DAEMON_COMMON_FAILPOINT_HPP

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

// Crash injection for the reliability tests. When the environment variable BBSYNC_FAILPOINT
// names a failpoint, the process sends itself SIGKILL on reaching it, so a test can check what
// a crash at exactly that point leaves behind. The macros below expand to nothing unless the
// build sets BBSYNC_FAILPOINTS (the CMake option of the same name), so release builds contain
// no failpoint code at all.

namespace bbsync::failpoint {

// Returns the failpoint named by BBSYNC_FAILPOINT, read once, or an empty string when the
// variable is unset. Never throws.
const std::string& armed_name() noexcept;

// Kills the process with SIGKILL when `name` is the armed failpoint, after writing one line
// naming it to standard error; returns at once otherwise. Never throws.
void hit(std::string_view name) noexcept;

// Kills the process with SIGKILL when `name` is the armed failpoint and this object is still
// alive after BBSYNC_FAILPOINT_DELAY_MS milliseconds (default 300). Marks an operation in
// flight, such as a request whose response has not been read yet: the test makes the response
// slower than the delay. Destroying the object cancels the kill. Throws only std::bad_alloc.
class kill_while_pending
{
public:
    kill_while_pending(const boost::asio::any_io_executor& executor, std::string_view name);
    ~kill_while_pending();
    kill_while_pending(const kill_while_pending&) = delete;
    kill_while_pending& operator=(const kill_while_pending&) = delete;

private:
    struct timer_state;
    std::shared_ptr<timer_state> state_;
};

}  // namespace bbsync::failpoint

#define BBSYNC_FAILPOINT_CONCAT_INNER(a, b) a##b
#define BBSYNC_FAILPOINT_CONCAT(a, b) BBSYNC_FAILPOINT_CONCAT_INNER(a, b)

#if defined(BBSYNC_FAILPOINTS)
// Kills the process here when BBSYNC_FAILPOINT equals `name`.
#define BBSYNC_FAILPOINT(name) ::bbsync::failpoint::hit(name)
// Kills the process while the rest of the enclosing scope is still running, when
// BBSYNC_FAILPOINT equals `name` and the scope lasts longer than BBSYNC_FAILPOINT_DELAY_MS.
#define BBSYNC_FAILPOINT_WHILE_PENDING(executor, name)                                                       \
    const ::bbsync::failpoint::kill_while_pending BBSYNC_FAILPOINT_CONCAT(bbsync_failpoint_, __LINE__)(      \
        executor, name                                                                                       \
    )
#else
#define BBSYNC_FAILPOINT(name) static_cast<void>(0)
#define BBSYNC_FAILPOINT_WHILE_PENDING(executor, name) static_cast<void>(0)
#endif

#endif

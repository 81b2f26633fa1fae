#include "daemon/common/failpoint.hpp"

#include <boost/asio/steady_timer.hpp>

#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string>

namespace bbsync::failpoint {
namespace {

constexpr std::chrono::milliseconds default_pending_delay{300};

std::chrono::milliseconds pending_delay() noexcept
{
    const char* text = std::getenv("BBSYNC_FAILPOINT_DELAY_MS");
    if (text == nullptr)
    {
        return default_pending_delay;
    }
    long value = 0;
    const std::string_view view(text);
    const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
    if (error != std::errc() || end != view.data() + view.size() || value < 0)
    {
        return default_pending_delay;
    }
    return std::chrono::milliseconds(value);
}

[[noreturn]] void kill_self(std::string_view name) noexcept
{
    // write(2) and kill(2) only: the line must reach the log even when the heap is in use.
    constexpr std::string_view prefix = "bbsync: failpoint ";
    constexpr std::string_view suffix = " reached; sending SIGKILL to this process\n";
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, prefix.data(), prefix.size());
    ignored = ::write(STDERR_FILENO, name.data(), name.size());
    ignored = ::write(STDERR_FILENO, suffix.data(), suffix.size());
    ::kill(::getpid(), SIGKILL);
    std::_Exit(137);
}

}  // namespace

const std::string& armed_name() noexcept
{
    static const std::string name = [] {
        const char* text = std::getenv("BBSYNC_FAILPOINT");
        return text != nullptr ? std::string(text) : std::string();
    }();
    return name;
}

void hit(std::string_view name) noexcept
{
    if (!armed_name().empty() && armed_name() == name)
    {
        kill_self(name);
    }
}

struct kill_while_pending::timer_state
{
    explicit timer_state(const boost::asio::any_io_executor& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
};

kill_while_pending::kill_while_pending(const boost::asio::any_io_executor& executor, std::string_view name)
{
    if (armed_name().empty() || armed_name() != name)
    {
        return;
    }
    state_ = std::make_shared<timer_state>(executor);
    state_->timer.expires_after(pending_delay());
    state_->timer.async_wait([state = state_](const boost::system::error_code& ec) {
        if (!ec)
        {
            kill_self(armed_name());
        }
    });
}

kill_while_pending::~kill_while_pending()
{
    if (state_)
    {
        state_->timer.cancel();
    }
}

}  // namespace bbsync::failpoint

#include "daemon/sync/create_guard.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

namespace bbsync {

namespace asio = boost::asio;

create_guard::create_guard(asio::any_io_executor executor)
    : released_(std::move(executor), coro::steady_timer::time_point::max())
{}

coro::awaitable<void> create_guard::claim(const std::vector<std::string>& keys)
{
    const auto is_claimed = [this](const std::string& key) { return claimed_.contains(key); };
    while (std::any_of(keys.begin(), keys.end(), is_claimed))
    {
        co_await released_.async_wait();
        const auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none)
        {
            throw boost::system::system_error(asio::error::operation_aborted);
        }
    }
    claimed_.insert(keys.begin(), keys.end());
}

void create_guard::release(const std::vector<std::string>& keys) noexcept
{
    for (const auto& key : keys)
    {
        claimed_.erase(key);
    }
    released_.cancel();
}

}  // namespace bbsync

#ifndef BBSYNC_DAEMON_SYNC_CREATE_GUARD_HPP
#define BBSYNC_DAEMON_SYNC_CREATE_GUARD_HPP

#include <boost/asio/any_io_executor.hpp>

#include <set>
#include <string>
#include <vector>

#include "coro/tokens.hpp"

namespace bbsync {

// Keeps batch bundles that create the same resource from being in flight together. A server
// that checks ifNoneExist and then creates can create twice when two such requests overlap, so
// a bundle first claims the fullUrls of its entries. Single-threaded, like the jobs that use it.
class create_guard
{
public:
    explicit create_guard(boost::asio::any_io_executor executor);

    // Waits until none of `keys` is claimed, then claims them all at once. A cancelled caller
    // stops waiting with boost::system::system_error (operation_aborted) and claims nothing.
    coro::awaitable<void> claim(const std::vector<std::string>& keys);

    // Releases keys claimed by claim() and wakes every waiter to check again.
    void release(const std::vector<std::string>& keys) noexcept;

    std::size_t claimed() const noexcept { return claimed_.size(); }

private:
    std::set<std::string> claimed_;
    // Never expires; release() cancels the waits on it.
    coro::steady_timer released_;
};

// Holds the claim of one bundle and releases it on destruction, whatever the send's outcome.
class create_claim
{
public:
    create_claim(create_guard& guard, const std::vector<std::string>& keys) : guard_(guard), keys_(keys) {}
    create_claim(const create_claim&) = delete;
    create_claim& operator=(const create_claim&) = delete;
    ~create_claim() { guard_.release(keys_); }

private:
    create_guard& guard_;
    const std::vector<std::string>& keys_;
};

}  // namespace bbsync

#endif

#ifndef BBSYNC_DAEMON_PAYER_TOKEN_MANAGER_HPP
#define BBSYNC_DAEMON_PAYER_TOKEN_MANAGER_HPP

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "coro/async_semaphore.hpp"
#include "daemon/common/failure.hpp"
#include "daemon/payer/payer_client.hpp"
#include "daemon/sync/repository.hpp"

namespace bbsync {

// Failure class used when a refresh fails after an earlier refresh was interrupted: the
// stored token was most likely spent by that earlier request.
inline constexpr const char* rotation_lost_class = "consent.rotation_lost";

// Failure class used when the stored refresh token cannot be decrypted: its key is not
// configured, or the row was modified.
inline constexpr const char* token_decrypt_failed_class = "token.decrypt_failed";

// Payer access tokens per patient, kept in memory only. A token is reused until shortly
// before it expires. Refreshes are single-flight per patient, and the rotated refresh token
// is committed to the database before the new access token is handed out.
class token_manager
{
public:
    token_manager(boost::asio::any_io_executor executor, repository& repo, payer_client& payer);

    // Returns a usable access token for the patient. When `rejected` is the token a FHIR
    // call just had refused (HTTP 401), a new one is obtained unless another caller already
    // replaced it. Failure classes: those of payer_client::refresh, plus rotation_lost_class,
    // token_decrypt_failed_class and "consent.no_refresh_token". Renewal failures mark the
    // patient renewal_required.
    coro::awaitable<outcome<std::string>> access_token(
        std::int64_t patient_key, const std::string& rejected = {}
    );

    // Number of refresh requests sent, for tests and metrics.
    std::uint64_t refreshes() const noexcept { return refreshes_; }

private:
    struct entry
    {
        explicit entry(boost::asio::any_io_executor executor) : lock(std::move(executor), 1) {}
        coro::async_semaphore lock;
        std::string access_token;
        std::chrono::steady_clock::time_point expires_at;
        // Times the current access token was returned, for the refresh.after_first_call
        // failpoint.
        int handed_out = 0;
    };

    coro::awaitable<outcome<std::string>> refresh(std::int64_t patient_key, entry& cached);

    boost::asio::any_io_executor executor_;
    repository& repo_;
    payer_client& payer_;
    std::map<std::int64_t, std::unique_ptr<entry>> entries_;
    std::uint64_t refreshes_ = 0;
};

}  // namespace bbsync

#endif

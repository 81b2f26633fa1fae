#include "daemon/payer/token_manager.hpp"

#include "daemon/common/failpoint.hpp"
#include "daemon/service/log.hpp"

namespace bbsync {
namespace {

// Tokens are refreshed this long before they expire, so that a page fetch does not start
// with a token that dies in flight.
constexpr auto expiry_margin = std::chrono::seconds(60);

}  // namespace

token_manager::token_manager(boost::asio::any_io_executor executor, repository& repo, payer_client& payer)
    : executor_(std::move(executor)), repo_(repo), payer_(payer)
{}

coro::awaitable<outcome<std::string>> token_manager::access_token(
    std::int64_t patient_key, const std::string& rejected
)
{
    auto& slot = entries_[patient_key];
    if (!slot)
    {
        slot = std::make_unique<entry>(executor_);
    }
    auto& cached = *slot;

    // Single flight: the caller holding the lock refreshes, and later callers reuse its token.
    auto permit = co_await cached.lock.acquire();
    const bool usable = !cached.access_token.empty() && cached.access_token != rejected &&
                        std::chrono::steady_clock::now() + expiry_margin < cached.expires_at;
    if (usable)
    {
        // The third hand-out of a refreshed token comes after the job's first FHIR call
        // (Patient) returned, because the job requests the token before each call and makes
        // its first two calls one after the other.
        if (++cached.handed_out == 3)
        {
            BBSYNC_FAILPOINT("refresh.after_first_call");
        }
        co_return cached.access_token;
    }
    co_return co_await refresh(patient_key, cached);
}

coro::awaitable<outcome<std::string>> token_manager::refresh(std::int64_t patient_key, entry& cached)
{
    const auto tag = "patient " + std::to_string(patient_key);
    cached.access_token.clear();

    auto patient = repo_.find_patient(patient_key);
    // A token that no configured key decrypts fails this job only; the message names the key
    // files, never key or token bytes.
    std::optional<std::string> refresh_token;
    std::string decrypt_error;
    try
    {
        refresh_token = repo_.refresh_token(patient_key);
    }
    catch (const token_cipher_error& e)
    {
        decrypt_error = e.what();
    }
    if (!decrypt_error.empty())
    {
        log::error("token", tag + ": " + decrypt_error);
        co_return failure{token_decrypt_failed_class, decrypt_error, false};
    }
    if (!patient || !refresh_token)
    {
        co_return failure{"consent.no_refresh_token", "no refresh token is stored for " + tag, false};
    }

    // Mark the refresh before sending it. If the process dies before the rotated token is
    // committed, the next refresh then treats the stored token as possibly spent.
    const bool earlier_refresh_interrupted = patient->refresh_in_flight;
    repo_.mark_refresh_in_flight(patient_key);
    ++refreshes_;
    BBSYNC_FAILPOINT("refresh.before_send");
    // The request goes out within milliseconds, so this kill lands after it was sent and before
    // the response is read when the payer responds more slowly than BBSYNC_FAILPOINT_DELAY_MS.
    // Nothing below awaits, so the pending kill cannot fire after the response arrived.
    BBSYNC_FAILPOINT_WHILE_PENDING(executor_, "refresh.after_send");
    auto tokens = co_await payer_.refresh(*refresh_token);
    BBSYNC_FAILPOINT("refresh.after_response");

    if (!tokens)
    {
        auto error = tokens.error();
        if (error.error_class == payer_errors::renewal_required)
        {
            repo_.mark_renewal_required(patient_key);
            if (earlier_refresh_interrupted)
            {
                error.error_class = rotation_lost_class;
                error.message = "refresh token rotation was lost: an earlier refresh was interrupted before "
                                "its new token was "
                                "stored; the patient must renew consent";
            }
            else
            {
                error.message += "; the patient must renew consent";
            }
            log::warning("token", tag + ": " + error.message);
        }
        else if (error.error_class == payer_errors::client_rejected)
        {
            // Bad client credentials: the payer never looked at the refresh token.
            repo_.clear_refresh_in_flight(patient_key);
            log::error("token", tag + ": " + error.message);
        }
        else
        {
            // Unknown outcome: the payer may have rotated the token, so the mark stays.
            log::warning("token", tag + ": refresh failed with " + error.error_class + ": " + error.message);
        }
        co_return error;
    }

    // Commit the rotated refresh token before anything uses the new access token.
    repo_.store_rotated_token(patient_key, tokens->refresh_token);
    BBSYNC_FAILPOINT("refresh.after_commit");
    cached.access_token = std::move(tokens->access_token);
    cached.expires_at = std::chrono::steady_clock::now() + tokens->expires_in;
    cached.handed_out = 1;
    log::debug("token", tag + ": refreshed the access token");
    co_return cached.access_token;
}

}  // namespace bbsync

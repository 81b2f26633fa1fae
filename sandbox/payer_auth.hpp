#ifndef BBSYNC_SANDBOX_PAYER_AUTH_HPP
#define BBSYNC_SANDBOX_PAYER_AUTH_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace bbsync::sandbox {

// Tokens returned by a successful refresh.
struct payer_token_pair
{
    std::string access_token;
    std::string refresh_token;
    std::size_t patient = 0;
};

// Reason a refresh was rejected.
enum class refresh_rejection
{
    // The token was valid once but has been rotated: 400 {"error": "invalid_grant"}.
    invalid_grant,
    // The token was never issued or was deleted by a new consent: 400 invalid_request.
    unknown_token,
    // The beneficiary revoked the grant: 403 invalid_grant "User access cannot be found".
    grant_revoked,
    // The 13-month grant ended: 401 invalid_grant "User access has timed out".
    grant_expired,
};

// State of a patient's data access grant to the app.
enum class grant_status
{
    active,
    revoked,
    expired,
};

// The payer's OAuth state: one live refresh token per patient (rotated on every use, like
// django-oauth-toolkit with ROTATE_REFRESH_TOKEN), the rotated ones, and access tokens with
// their expiry. Refreshing also revokes the access token issued with the old refresh token.
class payer_auth
{
public:
    // Issues the initial refresh token of every patient, derived from the seed. Throws only
    // std::bad_alloc.
    payer_auth(std::uint64_t seed, std::size_t patients, int access_token_lifetime_seconds);

    // Returns the refresh token that is live now for a patient.
    const std::string& live_refresh_token(std::size_t patient) const
    {
        return patients_[patient].live_refresh;
    }

    // Rotates a refresh token. Returns the new pair, or the rejection kind. Throws only
    // std::bad_alloc.
    std::variant<payer_token_pair, refresh_rejection> refresh(
        std::string_view refresh_token, std::int64_t now_ms
    );

    // Issues a one-time authorization code for a patient, bound to a PKCE S256 code challenge
    // and valid for 60 s. Throws only std::bad_alloc.
    std::string issue_authorization_code(
        std::size_t patient, std::string code_challenge, std::int64_t now_ms
    );

    // Exchanges an authorization code and its PKCE code verifier for a new token pair, which
    // replaces every earlier token of the patient like a new consent. The code is used up by
    // any attempt. Returns nullopt when the code is unknown, used, expired or the verifier does
    // not match the challenge. Throws only std::bad_alloc.
    std::optional<payer_token_pair> exchange_authorization_code(
        std::string_view code, std::string_view code_verifier, std::int64_t now_ms
    );

    // Records a new consent: deletes every earlier refresh and access token of the patient
    // and returns a fresh refresh token. Throws only std::bad_alloc.
    std::string renew_consent(std::size_t patient);

    // Revokes or expires a patient's grant: its access token stops working and refreshes are
    // rejected until a new consent.
    void end_grant(std::size_t patient, grant_status status);

    grant_status grant(std::size_t patient) const { return patients_[patient].grant; }

    // Returns the patient an access token was issued for, even when it expired or was revoked,
    // or nullopt for a string never issued.
    std::optional<std::size_t> issued_to(std::string_view token) const;

    // Returns the patient of a live, unexpired access token, or nullopt.
    std::optional<std::size_t> patient_of_access_token(std::string_view token, std::int64_t now_ms) const;

    // Returns true if this string was ever issued as a payer access token (even if expired or
    // revoked), to detect tokens sent to the wrong service.
    bool was_issued(std::string_view token) const;

    int access_token_lifetime_seconds() const { return lifetime_seconds_; }

    // Returns the number of patients holding a live refresh token.
    std::size_t live_refresh_tokens() const { return patients_.size(); }

private:
    struct patient_tokens
    {
        std::string live_refresh;
        std::string current_access;
        std::vector<std::string> rotated;
        grant_status grant = grant_status::active;
    };

    struct access_grant
    {
        std::size_t patient;
        std::int64_t expires_ms;
    };

    struct authorization_code
    {
        std::size_t patient;
        std::string code_challenge;
        std::int64_t expires_ms;
    };

    std::string next_token(std::size_t length);
    std::string issue_access_token(std::size_t patient, std::int64_t now_ms);

    std::uint64_t seed_;
    int lifetime_seconds_;
    std::uint64_t counter_ = 0;
    std::vector<patient_tokens> patients_;
    std::unordered_map<std::string, std::size_t> live_refresh_;
    std::unordered_map<std::string, std::size_t> rotated_refresh_;
    std::unordered_map<std::string, access_grant> access_;
    std::unordered_set<std::string> ever_issued_access_;
    std::unordered_map<std::string, authorization_code> codes_;
    std::unordered_map<std::string, std::size_t> issued_to_;
};

}  // namespace bbsync::sandbox

#endif

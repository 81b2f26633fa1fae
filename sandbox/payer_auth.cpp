#include "sandbox/payer_auth.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sandbox/deterministic_random.hpp"

namespace bbsync::sandbox {
namespace {

constexpr std::int64_t authorization_code_lifetime_ms = 60'000;

// Returns BASE64URL(SHA256(verifier)) without padding, the S256 code challenge of RFC 7636.
std::string s256_challenge(std::string_view verifier)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
    unsigned char encoded[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
    const int length = EVP_EncodeBlock(encoded, digest, SHA256_DIGEST_LENGTH);
    std::string text(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(length));
    for (auto& c : text)
    {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    while (!text.empty() && text.back() == '=')
        text.pop_back();
    return text;
}

// Returns true for a verifier of 43 to 128 unreserved characters (RFC 7636 section 4.1).
bool is_valid_verifier(std::string_view verifier)
{
    if (verifier.size() < 43 || verifier.size() > 128)
        return false;
    for (const char c : verifier)
    {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (!unreserved)
            return false;
    }
    return true;
}

}  // namespace

payer_auth::payer_auth(std::uint64_t seed, std::size_t patients, int access_token_lifetime_seconds)
    : seed_(seed), lifetime_seconds_(access_token_lifetime_seconds), patients_(patients)
{
    for (std::size_t p = 0; p < patients; ++p)
    {
        // Initial tokens depend only on the seed and the patient, so patients.json is stable.
        patients_[p].live_refresh = random_text(40, seed_, p, 0x5EED);
        live_refresh_.emplace(patients_[p].live_refresh, p);
    }
}

std::variant<payer_token_pair, refresh_rejection> payer_auth::refresh(
    std::string_view refresh_token, std::int64_t now_ms
)
{
    const std::string key(refresh_token);
    const auto live = live_refresh_.find(key);
    if (live == live_refresh_.end())
        return rotated_refresh_.contains(key) ? refresh_rejection::invalid_grant
                                              : refresh_rejection::unknown_token;

    // A grant that ended rejects the refresh without rotating the token.
    const std::size_t patient = live->second;
    if (patients_[patient].grant == grant_status::revoked)
        return refresh_rejection::grant_revoked;
    if (patients_[patient].grant == grant_status::expired)
        return refresh_rejection::grant_expired;

    // Rotate: the old refresh token and the access token issued with it die.
    live_refresh_.erase(live);
    auto& tokens = patients_[patient];
    rotated_refresh_.emplace(tokens.live_refresh, patient);
    tokens.rotated.push_back(std::move(tokens.live_refresh));
    if (!tokens.current_access.empty())
        access_.erase(tokens.current_access);

    payer_token_pair pair{next_token(30), next_token(40), patient};
    tokens.live_refresh = pair.refresh_token;
    tokens.current_access = pair.access_token;
    live_refresh_.emplace(pair.refresh_token, patient);
    access_.emplace(
        pair.access_token, access_grant{patient, now_ms + std::int64_t{lifetime_seconds_} * 1000}
    );
    ever_issued_access_.insert(pair.access_token);
    issued_to_.emplace(pair.access_token, patient);
    return pair;
}

std::string payer_auth::issue_authorization_code(
    std::size_t patient, std::string code_challenge, std::int64_t now_ms
)
{
    std::string code = next_token(30);
    codes_.emplace(
        code, authorization_code{patient, std::move(code_challenge), now_ms + authorization_code_lifetime_ms}
    );
    return code;
}

std::optional<payer_token_pair> payer_auth::exchange_authorization_code(
    std::string_view code, std::string_view code_verifier, std::int64_t now_ms
)
{
    const auto found = codes_.find(std::string(code));
    if (found == codes_.end())
        return std::nullopt;
    const auto grant = found->second;
    codes_.erase(found);
    if (grant.expires_ms <= now_ms || !is_valid_verifier(code_verifier) ||
        s256_challenge(code_verifier) != grant.code_challenge)
        return std::nullopt;

    payer_token_pair pair;
    pair.patient = grant.patient;
    pair.refresh_token = renew_consent(grant.patient);
    pair.access_token = issue_access_token(grant.patient, now_ms);
    return pair;
}

std::string payer_auth::issue_access_token(std::size_t patient, std::int64_t now_ms)
{
    auto token = next_token(30);
    patients_[patient].current_access = token;
    access_.emplace(token, access_grant{patient, now_ms + std::int64_t{lifetime_seconds_} * 1000});
    ever_issued_access_.insert(token);
    issued_to_.emplace(token, patient);
    return token;
}

std::string payer_auth::renew_consent(std::size_t patient)
{
    auto& tokens = patients_[patient];
    live_refresh_.erase(tokens.live_refresh);
    for (const auto& old : tokens.rotated)
        rotated_refresh_.erase(old);
    tokens.rotated.clear();
    if (!tokens.current_access.empty())
        access_.erase(tokens.current_access);
    tokens.current_access.clear();

    tokens.grant = grant_status::active;
    tokens.live_refresh = next_token(40);
    live_refresh_.emplace(tokens.live_refresh, patient);
    return tokens.live_refresh;
}

std::optional<std::size_t> payer_auth::patient_of_access_token(std::string_view token, std::int64_t now_ms)
    const
{
    const auto found = access_.find(std::string(token));
    if (found == access_.end() || found->second.expires_ms <= now_ms)
        return std::nullopt;
    return found->second.patient;
}

void payer_auth::end_grant(std::size_t patient, grant_status status)
{
    auto& tokens = patients_[patient];
    tokens.grant = status;
    if (!tokens.current_access.empty())
        access_.erase(tokens.current_access);
    tokens.current_access.clear();
}

std::optional<std::size_t> payer_auth::issued_to(std::string_view token) const
{
    const auto found = issued_to_.find(std::string(token));
    if (found == issued_to_.end())
        return std::nullopt;
    return found->second;
}

bool payer_auth::was_issued(std::string_view token) const
{
    return ever_issued_access_.contains(std::string(token));
}

std::string payer_auth::next_token(std::size_t length)
{
    return random_text(length, seed_, ++counter_, 0x70CE);
}

}  // namespace bbsync::sandbox

#include "sandbox/payer_auth.hpp"

#include "sandbox/deterministic_random.hpp"

namespace bbsync::sandbox {

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

    // Rotate: the old refresh token and the access token issued with it die.
    const std::size_t patient = live->second;
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
    return pair;
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

bool payer_auth::was_issued(std::string_view token) const
{
    return ever_issued_access_.contains(std::string(token));
}

std::string payer_auth::next_token(std::size_t length)
{
    return random_text(length, seed_, ++counter_, 0x70CE);
}

}  // namespace bbsync::sandbox

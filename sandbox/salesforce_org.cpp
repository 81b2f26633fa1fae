#include "sandbox/salesforce_org.hpp"

#include <cstdio>

#include "sandbox/deterministic_random.hpp"

namespace bbsync::sandbox {

namespace {

constexpr std::int64_t day_ms = 24 * 3600 * 1000;

}  // namespace

std::string salesforce_org::issue_token(std::int64_t now_ms)
{
    // Shaped like a Salesforce session id: org id prefix, "!", then an opaque part.
    std::string token = "00DSB0000000001!" + random_text(96, seed_, ++tokens_issued_, 0x5F);
    tokens_.emplace(token, now_ms);
    return token;
}

bool salesforce_org::is_live_token(std::string_view token, std::int64_t now_ms) const
{
    const auto found = tokens_.find(std::string(token));
    if (found == tokens_.end())
        return false;
    return session_lifetime_ms_ == 0 || now_ms < found->second + session_lifetime_ms_;
}

bool salesforce_org::try_count_api_call(std::int64_t now_ms)
{
    while (!recent_calls_.empty() && recent_calls_.front() <= now_ms - day_ms)
        recent_calls_.pop_front();
    if (recent_calls_.size() >= daily_api_limit_)
    {
        ++calls_over_limit_;
        return false;
    }
    recent_calls_.push_back(now_ms);
    return true;
}

bool salesforce_org::invalidate_token(std::string_view token)
{
    return tokens_.erase(std::string(token)) == 1;
}

std::pair<std::string, bool> salesforce_org::upsert_job(
    const std::string& job_id, const boost::json::object& fields
)
{
    auto [it, created] = jobs_.try_emplace(job_id);
    auto& record = it->second;
    if (created)
    {
        char id[32];
        std::snprintf(id, sizeof id, "a0BSB%013zu", jobs_.size());
        record["Id"] = id;
        record["JobId__c"] = job_id;
    }
    for (const auto& field : fields)
        record[field.key()] = field.value();
    return {std::string(record["Id"].as_string()), created};
}

}  // namespace bbsync::sandbox

#ifndef BBSYNC_SANDBOX_SALESFORCE_ORG_HPP
#define BBSYNC_SANDBOX_SALESFORCE_ORG_HPP

#include <boost/json/object.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bbsync::sandbox {

// The Salesforce org: client-credentials access tokens with an optional session lifetime,
// the PatientSyncJob__c records keyed by JobId__c, and the API usage counted against a
// rolling 24-hour allowance.
class salesforce_org
{
public:
    // `session_lifetime_seconds` 0 means sessions never expire.
    salesforce_org(std::uint64_t seed, int session_lifetime_seconds, std::uint64_t daily_api_limit)
        : seed_(seed), session_lifetime_ms_(std::int64_t{session_lifetime_seconds} * 1000),
          daily_api_limit_(daily_api_limit)
    {}

    // Issues a new access token. Throws only std::bad_alloc.
    std::string issue_token(std::int64_t now_ms);

    // Returns true if the token was issued by issue_token() and not invalidated, expired or not.
    bool is_valid_token(std::string_view token) const { return tokens_.contains(std::string(token)); }

    // Returns true if the token is valid and its session has not expired at `now_ms`.
    bool is_live_token(std::string_view token, std::int64_t now_ms) const;

    // Makes a token invalid, as an expired or revoked session is. Returns false when it was
    // not valid.
    bool invalidate_token(std::string_view token);

    std::uint64_t tokens_issued() const { return tokens_issued_; }

    // Counts one REST API call against the rolling 24-hour allowance. Returns false, without
    // counting, when the allowance is used up. Throws only std::bad_alloc.
    bool try_count_api_call(std::int64_t now_ms);

    // Returns the calls counted in the 24 hours before the latest call.
    std::uint64_t api_usage() const { return recent_calls_.size(); }

    std::uint64_t daily_api_limit() const { return daily_api_limit_; }

    // Returns the calls rejected because the allowance was used up.
    std::uint64_t calls_over_limit() const { return calls_over_limit_; }

    // Creates or updates a job record with the given fields. Returns the record's 18-character
    // id and whether it was created. Throws only std::bad_alloc.
    std::pair<std::string, bool> upsert_job(const std::string& job_id, const boost::json::object& fields);

    // Returns the job records keyed by JobId__c, each holding "Id", "JobId__c" and its fields.
    const std::map<std::string, boost::json::object>& jobs() const { return jobs_; }

private:
    std::uint64_t seed_;
    std::int64_t session_lifetime_ms_;
    std::uint64_t daily_api_limit_;
    // Issue time of each valid token, in milliseconds since the epoch.
    std::unordered_map<std::string, std::int64_t> tokens_;
    std::uint64_t tokens_issued_ = 0;
    std::deque<std::int64_t> recent_calls_;
    std::uint64_t calls_over_limit_ = 0;
    std::map<std::string, boost::json::object> jobs_;
};

}  // namespace bbsync::sandbox

#endif

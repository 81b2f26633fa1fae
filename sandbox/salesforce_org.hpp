#ifndef BBSYNC_SANDBOX_SALESFORCE_ORG_HPP
#define BBSYNC_SANDBOX_SALESFORCE_ORG_HPP

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>

namespace bbsync::sandbox {

// The Salesforce org: client-credentials access tokens (valid until the sandbox stops),
// the PatientSyncJob__c records keyed by JobId__c, and the daily API usage counter.
class salesforce_org
{
public:
    explicit salesforce_org(std::uint64_t seed) : seed_(seed) {}

    // Issues a new access token. Throws only std::bad_alloc.
    std::string issue_token();

    // Returns true if the token was issued by issue_token().
    bool is_valid_token(std::string_view token) const { return tokens_.contains(std::string(token)); }

    std::uint64_t tokens_issued() const { return tokens_.size(); }

    // Counts one REST API call and returns the usage after it.
    std::uint64_t count_api_call() { return ++api_usage_; }

    std::uint64_t api_usage() const { return api_usage_; }

    // Creates or updates a job record with the given fields. Returns the record's 18-character
    // id and whether it was created. Throws only std::bad_alloc.
    std::pair<std::string, bool> upsert_job(const std::string& job_id, const boost::json::object& fields);

    // Returns the job records keyed by JobId__c, each holding "Id", "JobId__c" and its fields.
    const std::map<std::string, boost::json::object>& jobs() const { return jobs_; }

private:
    std::uint64_t seed_;
    std::unordered_set<std::string> tokens_;
    std::map<std::string, boost::json::object> jobs_;
    std::uint64_t api_usage_ = 0;
};

}  // namespace bbsync::sandbox

#endif

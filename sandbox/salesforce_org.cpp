#include "sandbox/salesforce_org.hpp"

#include <cstdio>

#include "sandbox/deterministic_random.hpp"

namespace bbsync::sandbox {

std::string salesforce_org::issue_token()
{
    // Shaped like a Salesforce session id: org id prefix, "!", then an opaque part.
    std::string token = "00DSB0000000001!" + random_text(96, seed_, tokens_.size() + 1, 0x5F);
    tokens_.insert(token);
    return token;
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

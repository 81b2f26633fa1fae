#ifndef BBSYNC_SANDBOX_DATACLOUD_TENANT_HPP
#define BBSYNC_SANDBOX_DATACLOUD_TENANT_HPP

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sandbox/datacloud_schema.hpp"

namespace bbsync::sandbox {

// The Data Cloud tenant: tenant (JWT) access tokens from the a360 token exchange, the records
// of the BlueButtonClaim Ingestion API source keyed by object and id, and the counters of
// the `datacloud` member of the state document.
class datacloud_tenant
{
public:
    // Reads the embedded BlueButtonClaim schema. `token_lifetime_seconds` is the tenant token
    // lifetime. Throws std::runtime_error when the embedded schema is missing or unreadable.
    datacloud_tenant(std::uint64_t seed, int token_lifetime_seconds);

    // Issues a JWT-shaped tenant token valid for the token lifetime from `now_ms`. Throws only
    // std::bad_alloc.
    std::string issue_token(std::int64_t now_ms);

    // Returns true when the token was issued and has not expired or been invalidated.
    bool is_live_token(std::string_view token, std::int64_t now_ms) const;

    // Makes a tenant token invalid. Returns false when it was not a tenant token.
    bool invalidate_token(std::string_view token);

    int token_lifetime_seconds() const { return token_lifetime_seconds_; }

    const datacloud_schema& schema() const { return schema_; }

    // Stores records that passed the schema check, replacing a record with the same object
    // and id (counted as an update). Records must be JSON objects with a string id. Throws
    // only std::bad_alloc.
    void store(std::string_view object, const boost::json::array& records);

    // Counts a rejected ingestion request by its reason.
    void count_rejection(const std::string& reason) { ++rejections_[reason]; }

    // Counts a finished request on the datacloud host by its status.
    void count_status(unsigned status) { ++requests_by_status_[status]; }

    // Returns the stored records of an object keyed by id, or nullptr when none was stored.
    const std::map<std::string, boost::json::object>* records(std::string_view object) const;

    // Returns the `datacloud` member of the state document: records, updates and stored
    // batches by object, requests by status, rejections by reason and tokens issued. Throws
    // only std::bad_alloc.
    boost::json::object state_json() const;

private:
    std::uint64_t seed_;
    int token_lifetime_seconds_;
    datacloud_schema schema_;
    // Issue time of each valid tenant token, in milliseconds since the epoch.
    std::unordered_map<std::string, std::int64_t> tokens_;
    std::uint64_t tokens_issued_ = 0;
    std::map<std::string, std::map<std::string, boost::json::object>, std::less<>> records_;
    std::map<std::string, std::uint64_t, std::less<>> updates_;
    std::map<std::string, std::uint64_t, std::less<>> batches_;
    std::map<unsigned, std::uint64_t> requests_by_status_;
    std::map<std::string, std::uint64_t> rejections_;
};

}  // namespace bbsync::sandbox

#endif

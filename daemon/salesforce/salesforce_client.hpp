#ifndef BBSYNC_DAEMON_SALESFORCE_SALESFORCE_CLIENT_HPP
#define BBSYNC_DAEMON_SALESFORCE_SALESFORCE_CLIENT_HPP

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "coro/async_semaphore.hpp"
#include "coro/https_client.hpp"
#include "daemon/common/failure.hpp"
#include "daemon/service/config.hpp"
#include "daemon/sync/repository.hpp"

namespace bbsync {

// HTTP status of each entry of a batch-response, in request order (201, 200, 400, 424...).
using batch_outcome = std::vector<unsigned>;

// Maximum length, in characters, of a Salesforce Long Text Area value.
inline constexpr std::size_t max_long_text_chars = 32768;

// Builds the PatientSyncJob__c body for an upsert by JobId__c: exact picklist values,
// summaries cut to max_long_text_chars on a character boundary.
boost::json::object patient_sync_job_fields(const job_record& job);

// Reads the leading three-digit status of every entry of a FHIR batch-response bundle.
// Returns nullopt if the body is not a batch-response with exactly `expected_entries`
// entries that each carry a status.
std::optional<batch_outcome> parse_batch_response(
    const boost::json::value& body, std::size_t expected_entries
);

// Client of the Salesforce org: the client-credentials token, the Healthcare API bundle
// endpoint and the PatientSyncJob__c sObject.
class salesforce_client
{
public:
    salesforce_client(
        coro::https_client& http, const config& settings, boost::asio::any_io_executor executor
    );

    // Sends one FHIR batch bundle. At most config::max_concurrent_bundle_calls of these run
    // at once in the process. A 401 INVALID_SESSION_ID renews the token and replays once.
    // Failure classes: "salesforce.token_*", "healthcloud.http_<status>" (retryable for 429
    // and 5xx), "healthcloud.timeout", "healthcloud.transport", "healthcloud.bad_response".
    coro::awaitable<outcome<batch_outcome>> send_bundle(const boost::json::object& bundle);

    // Upserts the job into PatientSyncJob__c by JobId__c. Failure classes:
    // "salesforce.token_*", "salesforce.http_<status>" with the Salesforce errorCode appended
    // when there is one (e.g. "salesforce.http_403.REQUEST_LIMIT_EXCEEDED").
    coro::awaitable<outcome<void>> upsert_job(const job_record& job);

private:
    // Returns the cached access token, or requests a new one when there is none or when the
    // cached one is `rejected`, the token a Salesforce call has just rejected with HTTP 401.
    coro::awaitable<outcome<std::string>> access_token(const std::optional<std::string>& rejected);
    coro::awaitable<outcome<coro::http_response>> send_authorized(
        const coro::https_origin& origin,
        coro::http_request request,
        const coro::request_options& options,
        const char* error_prefix
    );

    coro::https_client& http_;
    const config& settings_;
    coro::async_semaphore bundle_calls_;
    coro::async_semaphore token_lock_;
    std::optional<std::string> token_;
    std::optional<coro::https_origin> instance_;
};

}  // namespace bbsync

#endif

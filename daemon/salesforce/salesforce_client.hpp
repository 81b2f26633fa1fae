#ifndef BBSYNC_DAEMON_SALESFORCE_SALESFORCE_CLIENT_HPP
#define BBSYNC_DAEMON_SALESFORCE_SALESFORCE_CLIENT_HPP

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <span>
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

// One entry of a batch-response: its status, the first OperationOutcome issue code (a FHIR
// code such as "invalid" or "processing", empty when absent) and the location of a created or
// matched resource ("Practitioner/abc", empty when absent). Diagnostics are not kept because
// they can echo claim content.
struct batch_entry_result
{
    unsigned status = 0;
    std::string issue_code;
    std::string location;
};

using batch_entries = std::vector<batch_entry_result>;

// The result of one record of a Collections upsert, in request order.
struct record_upsert_result
{
    bool success = false;
    // The first errors[].statusCode of a failed record, such as "REQUIRED_FIELD_MISSING".
    std::string error_code;
};

// The Salesforce errorCode that makes bbsync pause every Salesforce write.
inline constexpr const char* request_limit_exceeded = "REQUEST_LIMIT_EXCEEDED";

// Failure class of a write skipped because Salesforce writes are paused.
inline constexpr const char* salesforce_paused_class = "salesforce.paused";

// Maximum records per Collections upsert call.
inline constexpr std::size_t max_collection_records = 200;

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

// Reads every entry of a FHIR batch-response bundle like parse_batch_response, with the
// first issue code of each entry's outcome and each entry's location. Returns nullopt when
// parse_batch_response would.
std::optional<batch_entries> parse_batch_entries(
    const boost::json::value& body, std::size_t expected_entries
);

// Reads a Collections upsert response `[{"id", "success", "errors", "created"}, ...]`. Returns
// nullopt unless it is an array of exactly `expected_records` objects with a boolean success.
std::optional<std::vector<record_upsert_result>> parse_collection_upsert_response(
    const boost::json::value& body, std::size_t expected_records
);

// Returns the id of the first Practitioner entry of a searchset bundle, or nullopt when it has
// none. Returns nullopt as well when the body is not a searchset bundle.
std::optional<std::string> first_searchset_id(const boost::json::value& body);

// Returns the Healthcare API base path for resource reads, which is the bundle path without a
// trailing "/" and without a last "/Bundle" segment ("/bundle/fhir-r4/v1/Bundle" gives
// "/bundle/fhir-r4/v1").
std::string healthcare_api_base(const std::string& bundle_path);

// Returns the first UTC midnight after `now`.
std::chrono::system_clock::time_point next_utc_midnight(std::chrono::system_clock::time_point now);

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
    // Returns one batch_entry_result per request entry. While writes are paused it sends
    // nothing and fails with salesforce_paused_class.
    coro::awaitable<outcome<batch_entries>> send_bundle(const boost::json::object& bundle);

    // Sends a batch bundle already serialized, with `entry_count` request entries, like
    // send_bundle.
    coro::awaitable<outcome<batch_entries>> send_bundle_text(std::string body, std::size_t entry_count);

    // Upserts the job into PatientSyncJob__c by JobId__c. Failure classes:
    // "salesforce.token_*", salesforce_paused_class, "salesforce.http_<status>" with the
    // Salesforce errorCode appended when there is one (e.g.
    // "salesforce.http_403.REQUEST_LIMIT_EXCEEDED").
    coro::awaitable<outcome<void>> upsert_job(const job_record& job);

    // Upserts up to max_collection_records jobs in one Collections call
    // (PATCH .../composite/sobjects/PatientSyncJob__c/JobId__c, allOrNone false). Returns one
    // result per job in order. Fails like upsert_job, plus "salesforce.bad_response" when the
    // response does not list every record. Throws std::invalid_argument for more than
    // max_collection_records jobs.
    coro::awaitable<outcome<std::vector<record_upsert_result>>> upsert_jobs(std::span<const job_record> jobs);

    // Searches Health Cloud for a Practitioner by identifier (GET <base>/Practitioner?
    // identifier=SYSTEM|VALUE) under the same concurrency limit as send_bundle. Returns its
    // id, or nullopt when there is none. Failure classes: "salesforce.token_*",
    // salesforce_paused_class, "healthcloud.http_<status>", "healthcloud.timeout",
    // "healthcloud.transport", "healthcloud.bad_response".
    coro::awaitable<outcome<std::optional<std::string>>> find_practitioner(
        const std::string& system, const std::string& value
    );

    // Pauses every Salesforce write until `until`, with `reason` (an error class) kept for
    // the job history. A later pause replaces an earlier one.
    void pause_writes(std::chrono::system_clock::time_point until, std::string reason);
    // Ends a pause at once.
    void resume_writes() noexcept;
    // Returns the end of the current pause, or nullopt when writes are allowed now.
    std::optional<std::chrono::system_clock::time_point> writes_paused_until() const;
    // The reason given to the current or last pause.
    const std::string& pause_reason() const noexcept { return pause_reason_; }

    // How long a REQUEST_LIMIT_EXCEEDED response pauses writes. nullopt (the default) pauses
    // until the next UTC midnight.
    void set_limit_pause(std::optional<std::chrono::seconds> duration) noexcept { limit_pause_ = duration; }

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

    // Returns the failure that stops an sObject write before it is sent: the pause, or a failed
    // token request when the instance origin is not known yet.
    coro::awaitable<std::optional<failure>> prepare_sobject_write();

    // Returns the failure for a PatientSyncJob__c upsert rejected with `status`, classed by the
    // Salesforce errorCode in `body`. `what` names the request in the message.
    failure upsert_rejection(unsigned status, const std::string& body, std::string_view what);

    // Pauses writes when `error_code` is REQUEST_LIMIT_EXCEEDED.
    void note_error_code(const std::string& error_code);
    std::optional<failure> paused_failure() const;

    coro::https_client& http_;
    const config& settings_;
    coro::async_semaphore bundle_calls_;
    coro::async_semaphore token_lock_;
    std::optional<std::string> token_;
    std::optional<coro::https_origin> instance_;
    std::optional<std::chrono::system_clock::time_point> paused_until_;
    std::string pause_reason_;
    std::optional<std::chrono::seconds> limit_pause_;
};

}  // namespace bbsync

#endif

#ifndef BBSYNC_DAEMON_API_TRIGGER_API_HPP
#define BBSYNC_DAEMON_API_TRIGGER_API_HPP

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "daemon/api/http_listener.hpp"

namespace bbsync {
class sync_engine;
}

namespace bbsync::api {

// A valid $sync request body.
struct sync_request
{
    std::string patient_id;
    std::string access_token;
    std::optional<bool> claim_data_ingestion;
};

// Why a $sync body was rejected: the JSON field at fault (empty for the body itself) and a
// sentence that names it without echoing its value.
struct request_problem
{
    std::string field;
    std::string message;
};

// Parses and validates a $sync body: a JSON object with patientId (1 to 20 characters),
// accessToken (non-empty) and an optional boolean claimDataIngestion. Unknown keys are
// ignored. Returns the problem on invalid input. Never throws except std::bad_alloc.
std::variant<sync_request, request_problem> parse_sync_request(std::string_view body);

// Returns whether the Authorization header value is "Bearer <api_key>", comparing the key in
// time that does not depend on where it differs. An empty `api_key` matches nothing.
bool bearer_matches(std::string_view authorization, const std::string& api_key);

// The trigger API: POST {prefix}$sync starts a job for a registered patient with the
// caller's payer access token, GET {prefix}jobs/{jobId} returns a job record. `prefix` is
// https.entryPath without its trailing '*'.
class trigger_api
{
public:
    trigger_api(sync_engine& engine, std::string prefix, std::string api_key);

    // Handles one request and returns the response: 202, 200, 400, 401, 404, 405, 409 or 500. Error bodies
    // are FHIR OperationOutcome resources that never contain tokens or internal error text. Database failures
    // are logged and get 500. Never throws except std::bad_alloc.
    http_response handle(const http_request& request);

private:
    http_response start_sync(const http_request& request);
    http_response get_job(const std::string& job_id);

    sync_engine& engine_;
    std::string prefix_;
    std::string api_key_;
};

}  // namespace bbsync::api

#endif

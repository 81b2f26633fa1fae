#ifndef BBSYNC_SANDBOX_SANDBOX_STATE_HPP
#define BBSYNC_SANDBOX_SANDBOX_STATE_HPP

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>

#include "sandbox/carin_search_cache.hpp"
#include "sandbox/datacloud_tenant.hpp"
#include "sandbox/fault_injector.hpp"
#include "sandbox/fhir_renderer.hpp"
#include "sandbox/healthcloud_store.hpp"
#include "sandbox/host_kind.hpp"
#include "sandbox/observations.hpp"
#include "sandbox/options.hpp"
#include "sandbox/payer_auth.hpp"
#include "sandbox/payer_data.hpp"
#include "sandbox/salesforce_org.hpp"

namespace bbsync::sandbox {

// Client credentials the sandbox accepts; they are also written to sandbox.json.
inline constexpr std::string_view payer_client_id = "bbsync-sandbox-app";
inline constexpr std::string_view payer_client_secret = "sandbox-payer-secret";
inline constexpr std::string_view sf_client_id = "bbsync-sandbox-connected-app";
inline constexpr std::string_view sf_client_secret = "sandbox-sf-secret";
// The Salesforce user of the password grant, whose token is exchanged for a Data Cloud token.
inline constexpr std::string_view dc_username = "bbsync-integration@sandbox.example";
inline constexpr std::string_view dc_password = "sandbox-dc-password";

// Maximum concurrent Healthcare API calls; Salesforce documents 5 as the limit for clients.
// A request arriving while this many others are in progress gets 429.
inline constexpr int max_healthcloud_in_flight = 5;

// Everything the four emulated services share. Only the io_context thread touches it.
struct sandbox_state
{
    // Generates the data set and initial tokens. Throws std::runtime_error when the embedded
    // templates are unusable.
    sandbox_state(const options& settings, std::int64_t now_ms);

    // Returns the document served at GET /_sandbox/state. Throws only std::bad_alloc.
    boost::json::object state_json() const;

    // Returns the document served at GET /_sandbox/jobs. Throws only std::bad_alloc.
    boost::json::object jobs_json() const;

    // Returns the port a host listens on (0 before start-up finished).
    std::uint16_t port(host_kind host) const { return ports[static_cast<std::size_t>(host)]; }

    payer_data data;
    fhir_renderer renderer;
    payer_auth payer_tokens;
    salesforce_org org;
    healthcloud_store clinical;
    datacloud_tenant cdp;
    carin_search_cache carin_searches;
    observations seen;
    fault_injector faults;
    std::array<std::uint16_t, host_count> ports{};
    bool fractional_expires_in = false;
    bool payer_one_time_app = false;
    payer_mode mode = payer_mode::bluebutton;
    // Requests in progress per host, and the count of Healthcare API requests rejected with 429
    // because `max_healthcloud_in_flight` others were in progress.
    std::array<int, host_count> in_flight{};
    std::uint64_t healthcloud_throttled = 0;
};

}  // namespace bbsync::sandbox

#endif

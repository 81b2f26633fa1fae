#include "sandbox/sandbox_state.hpp"

#include <boost/json/array.hpp>

#include <map>

namespace bbsync::sandbox {

namespace json = boost::json;

sandbox_state::sandbox_state(const options& settings, std::int64_t now_ms)
    : data(settings.seed, settings.patients, settings.eobs_per_patient, now_ms), renderer(settings.seed),
      payer_tokens(settings.seed, data.patients().size(), settings.access_token_lifetime_seconds),
      org(settings.seed, settings.sf_session_lifetime_seconds, settings.sf_daily_api_limit),
      cdp(settings.seed, settings.dc_token_lifetime_seconds), carin_searches(settings.seed),
      faults(settings.seed, settings.faults), fractional_expires_in(settings.fractional_expires_in),
      payer_one_time_app(settings.payer_one_time_app), mode(settings.mode)
{}

json::object sandbox_state::state_json() const
{
    json::object out;
    seen.write_json(out);

    // Health Cloud records.
    json::object records;
    json::object duplicates;
    std::uint64_t duplicates_total = 0;
    for (std::size_t i = 0; i < healthcloud_resource_types.size(); ++i)
    {
        records[healthcloud_resource_types[i]] = clinical.records(i);
        duplicates[healthcloud_resource_types[i]] = clinical.duplicates(i);
        duplicates_total += clinical.duplicates(i);
    }
    out["records"] = std::move(records);
    out["duplicates"] = std::move(duplicates);
    out["duplicates_total"] = duplicates_total;

    // Payer data.
    out["eobs_total"] = data.eobs_total();
    json::object by_type;
    for (std::size_t i = 0; i < claim_type_count; ++i)
        by_type[claim_type_names[i]] = data.eobs_by_type()[i];
    out["eobs_by_type"] = std::move(by_type);
    out["faults"] = faults.to_json();

    // Token counters that live outside the observations.
    auto& tokens = out["tokens"].as_object();
    tokens["payer_live_refresh_tokens"] = payer_tokens.live_refresh_tokens();
    tokens["sf_tokens_issued"] = org.tokens_issued();

    // Mirrored jobs by Status__c.
    std::map<std::string, std::uint64_t> by_status;
    for (const auto& [job_id, fields] : org.jobs())
    {
        const auto* status = fields.if_contains("Status__c");
        by_status[status != nullptr && status->is_string() ? std::string(status->get_string()) : "(none)"] +=
            1;
    }
    json::object status_counts;
    for (const auto& [status, count] : by_status)
        status_counts[status] = count;
    out["sync_jobs"] = json::object{{"count", org.jobs().size()}, {"by_status", std::move(status_counts)}};
    out["sf_api_usage"] = org.api_usage();
    out["sf_api_calls_over_limit"] = org.calls_over_limit();
    out["healthcloud_throttled"] = healthcloud_throttled;
    out["datacloud"] = cdp.state_json();
    out["mode"] = to_string(mode);
    return out;
}

json::object sandbox_state::jobs_json() const
{
    json::array jobs;
    for (const auto& [job_id, fields] : org.jobs())
        jobs.push_back(fields);
    return json::object{{"jobs", std::move(jobs)}};
}

}  // namespace bbsync::sandbox

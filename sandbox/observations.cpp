#include "sandbox/observations.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace bbsync::sandbox {
namespace {

constexpr std::size_t max_recorded_searches = 100000;

}  // namespace

void observations::count_request(
    host_kind host, const std::string& method, const std::string& route, unsigned status
)
{
    ++requests_[{std::string(to_string(host)), method, route, status}];
}

void observations::count_rejection(host_kind host, const std::string& route, const std::string& reason)
{
    ++rejected_[{std::string(to_string(host)), route, reason}];
    ++rejected_total_;
}

void observations::record_eob_search(eob_search_record search)
{
    if (eob_searches_.size() >= max_recorded_searches)
    {
        ++eob_searches_dropped_;
        return;
    }
    eob_searches_.push_back(std::move(search));
}

void observations::request_started(host_kind host)
{
    const auto i = static_cast<std::size_t>(host);
    ++in_flight_[i];
    max_in_flight_[i] = std::max(max_in_flight_[i], in_flight_[i]);
}

void observations::request_finished(host_kind host) { --in_flight_[static_cast<std::size_t>(host)]; }

void observations::conditional_creates_started(const std::vector<std::string>& conditions)
{
    for (const auto& condition : conditions)
    {
        if (creates_in_progress_[condition]++ > 0)
        {
            ++overlapping_creates_;
        }
    }
}

void observations::conditional_creates_finished(const std::vector<std::string>& conditions)
{
    for (const auto& condition : conditions)
    {
        const auto found = creates_in_progress_.find(condition);
        if (found != creates_in_progress_.end() && --found->second == 0)
        {
            creates_in_progress_.erase(found);
        }
    }
}

void observations::write_json(boost::json::object& out) const
{
    namespace json = boost::json;

    json::array requests;
    for (const auto& [key, count] : requests_)
    {
        const auto& [host, method, route, status] = key;
        requests.push_back(json::object{
            {"host", host},
            {"method", method},
            {"route", route},
            {"status", status},
            {"count", count},
        });
    }
    out["requests"] = std::move(requests);

    json::array rejected;
    for (const auto& [key, count] : rejected_)
    {
        const auto& [host, route, reason] = key;
        rejected.push_back(json::object{
            {"host", host}, {"route", route}, {"reason", reason}, {"count", count}});
    }
    out["rejected"] = std::move(rejected);
    out["rejected_total"] = rejected_total_;

    json::array searches;
    for (const auto& search : eob_searches_)
    {
        json::array last_updated;
        for (const auto& value : search.last_updated)
            last_updated.push_back(json::string(value));
        searches.push_back(json::object{
            {"patient", search.patient},
            {"last_updated", std::move(last_updated)},
            {"start_index", search.start_index},
            {"count", search.count},
            {"returned", search.returned},
        });
    }
    out["eob_searches"] = std::move(searches);
    out["eob_searches_not_recorded"] = eob_searches_dropped_;

    json::object tokens;
    tokens["payer_refreshes"] = payer_refreshes_;
    json::object rejections;
    for (const auto& [error, count] : refresh_rejections_)
        rejections[error] = count;
    tokens["payer_refresh_rejections"] = std::move(rejections);
    out["tokens"] = std::move(tokens);

    json::object concurrency;
    json::array foreign;
    for (const auto host : all_hosts)
    {
        const auto i = static_cast<std::size_t>(host);
        concurrency[to_string(host)] = max_in_flight_[i];
        foreign.push_back(json::object{{"host", to_string(host)}, {"count", foreign_[i]}});
    }
    out["max_concurrency"] = std::move(concurrency);
    out["overlapping_conditional_creates"] = overlapping_creates_;
    out["foreign_authorization"] = std::move(foreign);
}

}  // namespace bbsync::sandbox

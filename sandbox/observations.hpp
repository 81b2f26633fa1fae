#ifndef BBSYNC_SANDBOX_OBSERVATIONS_HPP
#define BBSYNC_SANDBOX_OBSERVATIONS_HPP

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sandbox/host_kind.hpp"

namespace bbsync::sandbox {

// One ExplanationOfBenefit search as the client sent it.
struct eob_search_record
{
    std::string patient;
    std::vector<std::string> last_updated;
    std::size_t start_index = 0;
    std::size_t count = 0;
    std::size_t returned = 0;
};

// Client activity for GET /_sandbox/state: request counts by route and status, rejections
// with their reasons, EOB searches, token events, concurrency and tokens sent to the wrong
// service.
class observations
{
public:
    // Counts a finished request. `route` is the path with ids folded ("{id}", "{v}").
    void count_request(host_kind host, const std::string& method, const std::string& route, unsigned status);

    // Counts a request or bundle entry rejected because of a client mistake.
    void count_rejection(host_kind host, const std::string& route, const std::string& reason);

    // Records an EOB search. Keeps the first 100,000 and counts the rest.
    void record_eob_search(eob_search_record search);

    void count_payer_refresh() { ++payer_refreshes_; }

    // Counts a rejected refresh by its OAuth error code.
    void count_payer_refresh_rejection(const std::string& error) { ++refresh_rejections_[error]; }

    // Counts a bearer token that belongs to another service's realm.
    void count_foreign_authorization(host_kind host) { ++foreign_[static_cast<std::size_t>(host)]; }

    // Marks a request as started or finished on a host, tracking the highest overlap.
    void request_started(host_kind host);
    void request_finished(host_kind host);

    // Marks the conditional creates (ifNoneExist values) of a batch bundle as in progress or done,
    // counting each one that another bundle in progress already carries. A real server can run
    // such a pair at the same time and create the resource twice.
    void conditional_creates_started(const std::vector<std::string>& conditions);
    void conditional_creates_finished(const std::vector<std::string>& conditions);

    // Adds "requests", "rejected", "rejected_total", "eob_searches", "max_concurrency",
    // "overlapping_conditional_creates", "foreign_authorization" and the payer part of "tokens"
    // to `out`. Throws only
    // std::bad_alloc.
    void write_json(boost::json::object& out) const;

private:
    std::map<std::tuple<std::string, std::string, std::string, unsigned>, std::uint64_t> requests_;
    std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> rejected_;
    std::uint64_t rejected_total_ = 0;
    std::vector<eob_search_record> eob_searches_;
    std::uint64_t eob_searches_dropped_ = 0;
    std::uint64_t payer_refreshes_ = 0;
    std::map<std::string, std::uint64_t> refresh_rejections_{
        {"invalid_client", 0},
        {"invalid_grant", 0},
        {"invalid_request", 0},
        {"unsupported_grant_type", 0},
    };
    std::array<std::uint64_t, host_count> foreign_{};
    std::array<std::uint64_t, host_count> in_flight_{};
    std::array<std::uint64_t, host_count> max_in_flight_{};
    std::map<std::string, std::uint64_t> creates_in_progress_;
    std::uint64_t overlapping_creates_ = 0;
};

}  // namespace bbsync::sandbox

#endif

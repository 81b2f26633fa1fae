#include "sandbox/carin_routes.hpp"

#include <boost/algorithm/string/split.hpp>
#include <boost/json/array.hpp>
#include <boost/url/parse_query.hpp>

#include <charconv>
#include <set>
#include <string>
#include <vector>

#include "sandbox/deterministic_random.hpp"
#include "sandbox/fhir_json_writer.hpp"
#include "sandbox/fhir_time.hpp"

namespace bbsync::sandbox {
namespace {

namespace json = boost::json;
namespace urls = boost::urls;

constexpr std::string_view fhir_json = "application/fhir+json";
constexpr std::string_view eob_route = "/v2/fhir/ExplanationOfBenefit";
constexpr std::string_view claim_type_system = "http://terminology.hl7.org/CodeSystem/claim-type";
constexpr int max_page_size = 50;
constexpr int default_page_size = 10;

// Builds an error response with an OperationOutcome body, as HAPI FHIR based CARIN servers send.
route_response outcome_response(
    unsigned status,
    std::string_view code,
    const std::string& diagnostics,
    std::string route,
    std::string rejection
)
{
    const json::object outcome{
        {"resourceType", "OperationOutcome"},
        {"issue",
         json::array{json::object{{"severity", "error"}, {"code", code}, {"diagnostics", diagnostics}}}},
    };
    return {make_json_response(status, outcome, fhir_json), std::move(route), std::move(rejection)};
}

route_response invalid_parameter(const std::string& diagnostics, std::string_view route)
{
    return outcome_response(400, "invalid", diagnostics, std::string(route), diagnostics);
}

std::optional<std::string> read_count(const std::vector<query_param>& params, std::size_t& count)
{
    const auto text = find_param(params, "_count");
    if (!text)
        return std::nullopt;
    const auto value = parse_int(*text);
    if (!value || *value < 1 || *value > max_page_size)
        return "_count must be an integer from 1 to 50";
    count = static_cast<std::size_t>(*value);
    return std::nullopt;
}

std::string base_url(const sandbox_state& state)
{
    return "https://127.0.0.1:" + std::to_string(state.port(host_kind::payer)) + "/v2/fhir/";
}

// Returns the URL of a first request as the client sent it.
std::string self_url(const sandbox_state& state, std::string_view resource, std::string_view encoded_query)
{
    std::string url = base_url(state) + std::string(resource);
    if (!encoded_query.empty())
        url += "?" + std::string(encoded_query);
    return url;
}

std::string page_url(
    const sandbox_state& state, std::string_view search_id, std::size_t offset, std::size_t count
)
{
    return base_url(state) + "ExplanationOfBenefit?_getpages=" + std::string(search_id) +
           "&_getpagesoffset=" + std::to_string(offset) + "&_count=" + std::to_string(count) +
           "&_bundletype=searchset";
}

json::object searchset(std::int64_t now_ms, std::uint64_t salt, json::array links, json::array entries)
{
    const std::uint64_t h = mix_hash(static_cast<std::uint64_t>(now_ms), salt, 0xCB);
    json::object bundle{
        {"resourceType", "Bundle"},
        {"id",
         random_text(8, h, 1, 1) + "-" + random_text(4, h, 2, 2) + "-" + random_text(4, h, 3, 3) + "-" +
             random_text(4, h, 4, 4) + "-" + random_text(12, h, 5, 5)},
        {"meta", json::object{{"lastUpdated", format_instant(now_ms)}}},
        {"type", "searchset"},
        {"link", std::move(links)},
    };
    if (!entries.empty())
        bundle["entry"] = std::move(entries);
    return bundle;
}

json::object link(std::string_view relation, std::string url)
{
    return json::object{{"relation", relation}, {"url", std::move(url)}};
}

struct last_updated_filter
{
    std::string op;
    std::int64_t instant_us = 0;
};

bool passes(std::int64_t value_us, const last_updated_filter& filter)
{
    if (filter.op == "gt")
        return value_us > filter.instant_us;
    if (filter.op == "ge")
        return value_us >= filter.instant_us;
    if (filter.op == "lt")
        return value_us < filter.instant_us;
    return value_us <= filter.instant_us;
}

// Parses the `type` parameter: HL7 claim-type codes, optionally as "<claim-type system>|code".
bool parse_type_param(std::string_view text, std::set<std::string, std::less<>>& types)
{
    std::vector<std::string> items;
    boost::algorithm::split(items, text, [](char c) { return c == ','; });
    for (const auto& item : items)
    {
        std::string_view code = item;
        if (const auto bar = code.find('|'); bar != std::string_view::npos)
        {
            if (code.substr(0, bar) != claim_type_system && bar != 0)
                return false;
            code = code.substr(bar + 1);
        }
        bool known = false;
        for (const auto& kind : carin_kinds)
            known = known || kind.claim_type == code;
        if (!known)
            return false;
        types.emplace(code);
    }
    return true;
}

// Builds the response with one page of a cached search.
route_response page_response(
    sandbox_state& state,
    std::string_view search_id,
    const carin_search& search,
    std::size_t offset,
    std::size_t count,
    std::string self,
    std::vector<std::string> last_updated_texts,
    std::int64_t now_ms
)
{
    const auto& patient = state.data.patients()[search.patient];
    json::array entries;
    const std::size_t end = std::min(search.results.size(), offset + count);
    for (std::size_t i = offset; i < end; ++i)
    {
        const auto& eob = search.results[i];
        entries.push_back(json::object{
            {"fullUrl", base_url(state) + "ExplanationOfBenefit/" + fhir_renderer::carin_eob_id(eob)},
            {"resource", state.renderer.render_carin_eob(patient, eob)},
            {"search", json::object{{"mode", "match"}}},
        });
    }
    state.seen.record_eob_search(
        {patient.payer_id, std::move(last_updated_texts), offset, count, entries.size()}
    );

    json::array links;
    links.push_back(link("self", std::move(self)));
    if (end < search.results.size())
        links.push_back(link("next", page_url(state, search_id, end, count)));
    const auto bundle = searchset(now_ms, offset, std::move(links), std::move(entries));
    return {make_text_response(200, to_fhir_json(bundle), fhir_json), std::string(eob_route), {}};
}

// Handles a `_getpages` request from a next link.
route_response handle_next_page(
    sandbox_state& state, const request_target& target, std::size_t patient, std::int64_t now_ms
)
{
    const auto search_id = find_param(target.params, "_getpages").value_or("");
    const auto* search = state.carin_searches.find(search_id);
    if (search == nullptr || search->patient != patient)
        return outcome_response(
            410,
            "processing",
            "Search ID \"" + search_id.substr(0, 64) +
                "\" does not exist and may have expired: start a new search",
            std::string(eob_route),
            search == nullptr ? "unknown or expired _getpages search id"
                              : "_getpages search of another patient"
        );
    std::size_t count = default_page_size;
    if (const auto error = read_count(target.params, count))
        return invalid_parameter(*error, eob_route);
    const auto offset_text = find_param(target.params, "_getpagesoffset");
    const auto offset = offset_text ? parse_int(*offset_text) : std::optional<int>(0);
    if (!offset || *offset < 0 || static_cast<std::size_t>(*offset) > search->results.size())
        return invalid_parameter(
            "_getpagesoffset must be an integer from 0 to " + std::to_string(search->results.size()),
            eob_route
        );
    return page_response(
        state,
        search_id,
        *search,
        static_cast<std::size_t>(*offset),
        count,
        self_url(state, "ExplanationOfBenefit", target.encoded_query),
        {},
        now_ms
    );
}

}  // namespace

route_response handle_carin_eob_search(
    sandbox_state& state, const request_target& target, std::size_t patient, std::int64_t now_ms
)
{
    const auto& payer_id = state.data.patients()[patient].payer_id;
    for (const auto& param : target.params)
    {
        if (param.key == "patient" && param.value != payer_id && param.value != "Patient/" + payer_id)
            state.seen.count_rejection(
                host_kind::payer, std::string(eob_route), "patient parameter is not the token's patient"
            );
    }
    if (find_param(target.params, "_getpages"))
        return handle_next_page(state, target, patient, now_ms);
    if (find_param(target.params, "startIndex") || find_param(target.params, "_getpagesoffset"))
        return invalid_parameter(
            "startIndex and _getpagesoffset are not supported: follow the next link to page", eob_route
        );

    std::size_t count = default_page_size;
    if (const auto error = read_count(target.params, count))
        return invalid_parameter(*error, eob_route);
    std::vector<last_updated_filter> filters;
    std::vector<std::string> last_updated_texts;
    std::set<std::string, std::less<>> types;
    for (const auto& param : target.params)
    {
        if (param.key == "_lastUpdated")
        {
            const std::string_view text = param.value;
            const std::string op(text.substr(0, 2));
            if (text.size() < 3 || (op != "gt" && op != "ge" && op != "lt" && op != "le"))
                return invalid_parameter("the _lastUpdated operator must be gt, ge, lt or le", eob_route);
            const auto instant = parse_instant_us(text.substr(2));
            if (!instant)
                return invalid_parameter(
                    "the _lastUpdated value is not a valid FHIR date or instant", eob_route
                );
            filters.push_back({op, *instant});
            last_updated_texts.emplace_back(text);
        }
        else if (param.key == "type" && !parse_type_param(param.value, types))
            return invalid_parameter(
                "the type parameter must list claim-type codes: institutional, oral, pharmacy, professional "
                "or "
                "vision",
                eob_route
            );
    }

    carin_search search{patient, {}};
    for (const auto& eob : state.data.eobs(patient))
    {
        const auto& kind = carin_kinds[fhir_renderer::carin_kind_of(eob)];
        if (!types.empty() && !types.contains(kind.claim_type))
            continue;
        bool matches_filters = true;
        for (const auto& filter : filters)
            matches_filters = matches_filters && passes(eob.last_updated_ms * 1000, filter);
        if (matches_filters)
            search.results.push_back(eob);
    }
    const auto search_id = state.carin_searches.store(std::move(search));
    return page_response(
        state,
        search_id,
        *state.carin_searches.find(search_id),
        0,
        count,
        self_url(state, "ExplanationOfBenefit", target.encoded_query),
        std::move(last_updated_texts),
        now_ms
    );
}

route_response handle_carin_coverage_search(
    sandbox_state& state, const request_target& target, std::size_t patient, std::int64_t now_ms
)
{
    const std::string route = "/v2/fhir/Coverage";
    if (find_param(target.params, "beneficiary"))
        return invalid_parameter(
            "the beneficiary parameter is not supported: search Coverage by patient", route
        );
    const auto requested = find_param(target.params, "patient");
    if (!requested)
        return invalid_parameter("the patient parameter is required", route);
    const auto& record = state.data.patients()[patient];
    if (*requested != record.payer_id && *requested != "Patient/" + record.payer_id)
        state.seen.count_rejection(host_kind::payer, route, "patient parameter is not the token's patient");

    json::array entries;
    for (auto& coverage : state.renderer.render_coverages(patient, record))
    {
        const std::string id(coverage.at("id").as_string());
        entries.push_back(json::object{
            {"fullUrl", base_url(state) + "Coverage/" + id},
            {"resource", std::move(coverage)},
            {"search", json::object{{"mode", "match"}}},
        });
    }
    json::array links{link("self", self_url(state, "Coverage", target.encoded_query))};
    const auto bundle = searchset(now_ms, patient, std::move(links), std::move(entries));
    return {make_text_response(200, to_fhir_json(bundle), fhir_json), route, {}};
}

route_response handle_carin_reference_read(
    const sandbox_state& state, std::string_view resource_type, std::string_view id
)
{
    const std::string route = "/v2/fhir/" + std::string(resource_type) + "/{id}";
    const auto* resource = state.renderer.carin_reference(std::string(resource_type) + "/" + std::string(id));
    if (resource == nullptr)
        return outcome_response(
            404,
            "not-found",
            "Resource " + std::string(resource_type) + "/" + std::string(id.substr(0, 64)) + " is not known",
            route,
            std::string(resource_type) + " not found"
        );
    return {make_text_response(200, to_fhir_json(*resource), fhir_json), route, {}};
}

route_response handle_carin_eob_read(const sandbox_state& state, std::string_view id, std::size_t patient)
{
    const std::string route = "/v2/fhir/ExplanationOfBenefit/{id}";
    for (const auto& eob : state.data.eobs(patient))
    {
        if (fhir_renderer::carin_eob_id(eob) == id)
        {
            const auto resource = state.renderer.render_carin_eob(state.data.patients()[patient], eob);
            return {make_text_response(200, to_fhir_json(resource), fhir_json), route, {}};
        }
    }
    return outcome_response(
        404,
        "not-found",
        "Resource ExplanationOfBenefit/" + std::string(id.substr(0, 64)) + " is not known",
        route,
        "EOB not found for the token's patient"
    );
}

}  // namespace bbsync::sandbox

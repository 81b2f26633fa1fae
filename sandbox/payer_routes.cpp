#include "sandbox/payer_routes.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/algorithm/string/split.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/array.hpp>
#include <boost/url/parse_query.hpp>

#include <charconv>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/carin_routes.hpp"
#include "sandbox/deterministic_random.hpp"
#include "sandbox/fhir_json_writer.hpp"
#include "sandbox/fhir_time.hpp"
#include "sandbox/request_parsing.hpp"

namespace bbsync::sandbox {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
namespace urls = boost::urls;

constexpr std::string_view fhir_json = "application/fhir+json";
constexpr std::string_view granted_scope =
    "patient/Patient.rs patient/Coverage.rs patient/ExplanationOfBenefit.rs profile";
constexpr std::string_view eob_type_system = "https://bluebutton.cms.gov/resources/codesystem/eob-type";
constexpr std::string_view not_authenticated = "Authentication credentials were not provided.";
constexpr std::string_view grant_revoked_message = "User access cannot be found. To refresh Medicare data, "
                                                   "end user must re-authenticate and consent to share "
                                                   "their data.";
constexpr std::string_view grant_expired_message =
    "User access has timed out. To refresh Medicare data, end user must re-authenticate and consent to share "
    "their data.";
constexpr int max_page_size = 50;
constexpr int default_page_size = 10;

route_response detail_response(
    unsigned status, std::string_view detail, std::string route, std::string rejection
)
{
    return {
        make_json_response(status, json::object{{"detail", detail}}, fhir_json),
        std::move(route),
        std::move(rejection)};
}

route_response oauth_error(unsigned status, json::object body, std::string rejection)
{
    auto response = make_json_response(status, body);
    response.set(http::field::cache_control, "no-store");
    return {std::move(response), "/v2/o/token/", std::move(rejection)};
}

// Returns expires_in in the configured form. The fractional form is the lifetime minus half a
// second, so that a client truncating it still refreshes before the token expires.
json::value expires_in_value(const sandbox_state& state)
{
    const int lifetime = state.payer_tokens.access_token_lifetime_seconds();
    if (state.fractional_expires_in)
        return json::value(static_cast<double>(lifetime) - 0.5);
    return json::value(lifetime);
}

// Builds the token response of a new pair; the 13-month grant ends 395 days from now.
route_response token_pair_response(
    const sandbox_state& state, const payer_token_pair& pair, std::int64_t now_ms
)
{
    json::object body{
        {"access_token", pair.access_token},
        {"expires_in", expires_in_value(state)},
        {"token_type", "Bearer"},
        {"scope", granted_scope},
        {"refresh_token", pair.refresh_token},
        {"patient", state.data.patients()[pair.patient].payer_id},
        {"access_grant_expiration", format_grant_expiration(now_ms + std::int64_t{395} * 86400000)},
    };
    auto response = make_json_response(200, body);
    response.set(http::field::cache_control, "no-store");
    response.set(http::field::pragma, "no-cache");
    return {std::move(response), "/v2/o/token/", {}};
}

// The authorization_code grant with PKCE: the code from /_sandbox/authorization_code and the
// verifier whose S256 challenge it was issued for.
route_response handle_code_grant(
    sandbox_state& state, const std::vector<query_param>& form, std::int64_t now_ms
)
{
    const auto code = find_param(form, "code");
    const auto verifier = find_param(form, "code_verifier");
    if (!code || !verifier)
        return oauth_error(
            400,
            {{"error", "invalid_request"}, {"error_description", "Missing code or code_verifier parameter"}},
            "authorization_code grant without code or code_verifier"
        );
    const auto pair = state.payer_tokens.exchange_authorization_code(*code, *verifier, now_ms);
    if (!pair)
        return oauth_error(
            400,
            {{"error", "invalid_grant"}},
            "authorization code unknown, used, expired or PKCE verifier mismatch"
        );
    return token_pair_response(state, *pair, now_ms);
}

// The token endpoint: client authentication, then the refresh_token grant.
route_response handle_token(sandbox_state& state, const http_request& request, std::int64_t now_ms)
{
    if (media_type(request) != "application/x-www-form-urlencoded")
    {
        state.seen.count_payer_refresh_rejection("invalid_request");
        return oauth_error(
            400,
            {{"error", "invalid_request"},
             {"error_description", "The request body must be application/x-www-form-urlencoded"}},
            "token request body is not form-urlencoded"
        );
    }
    const auto form = parse_form(request.body());
    if (!form)
    {
        state.seen.count_payer_refresh_rejection("invalid_request");
        return oauth_error(
            400,
            {{"error", "invalid_request"}, {"error_description", "The request body is not valid form data"}},
            "token request body is malformed"
        );
    }

    // Client authentication: HTTP Basic first, else client_id/client_secret form fields.
    auto credentials = basic_credentials(request);
    if (!credentials)
    {
        const auto id = find_param(*form, "client_id");
        const auto secret = find_param(*form, "client_secret");
        if (id && secret)
            credentials = std::pair{*id, *secret};
    }
    if (!credentials || credentials->first != payer_client_id || credentials->second != payer_client_secret)
    {
        state.seen.count_payer_refresh_rejection("invalid_client");
        return oauth_error(401, {{"error", "invalid_client"}}, "invalid payer client credentials");
    }

    const auto grant_type = find_param(*form, "grant_type");
    if (grant_type == "authorization_code")
        return handle_code_grant(state, *form, now_ms);
    if (grant_type == "refresh_token" && state.payer_one_time_app)
    {
        state.seen.count_payer_refresh_rejection("invalid_client");
        // NOTE: Blue Button's message continues after this sentence; only the first sentence
        // is reproduced.
        return oauth_error(
            403,
            {{"status_code", 403},
             {"error", "invalid_client"},
             {"error_description", "Your application is not allowed to refresh tokens."}},
            "one-time app refresh"
        );
    }
    if (grant_type != "refresh_token")
    {
        state.seen.count_payer_refresh_rejection("unsupported_grant_type");
        return oauth_error(400, {{"error", "unsupported_grant_type"}}, "unsupported grant_type");
    }

    // A narrower scope is allowed on refresh; anything outside the grant is not.
    if (const auto scope = find_param(*form, "scope"))
    {
        std::vector<std::string> requested;
        boost::algorithm::split(
            requested, *scope, [](char c) { return c == ' '; }, boost::algorithm::token_compress_on
        );
        for (const auto& item : requested)
        {
            if (!item.empty() && std::string_view(granted_scope).find(item) == std::string_view::npos)
            {
                state.seen.count_payer_refresh_rejection("invalid_scope");
                return oauth_error(400, {{"error", "invalid_scope"}}, "scope outside the original grant");
            }
        }
    }

    const auto refresh_token = find_param(*form, "refresh_token").value_or("");
    auto outcome = state.payer_tokens.refresh(refresh_token, now_ms);
    if (const auto* rejection = std::get_if<refresh_rejection>(&outcome))
    {
        if (*rejection == refresh_rejection::grant_revoked)
        {
            state.seen.count_payer_refresh_rejection("invalid_grant");
            return oauth_error(
                403,
                {{"status_code", 403},
                 {"error", "invalid_grant"},
                 {"error_description", grant_revoked_message}},
                "grant revoked"
            );
        }
        if (*rejection == refresh_rejection::grant_expired)
        {
            state.seen.count_payer_refresh_rejection("invalid_grant");
            return oauth_error(
                401,
                {{"status_code", 401},
                 {"error", "invalid_grant"},
                 {"error_description", grant_expired_message}},
                "13-month grant expired"
            );
        }
        if (*rejection == refresh_rejection::invalid_grant)
        {
            state.seen.count_payer_refresh_rejection("invalid_grant");
            return oauth_error(400, {{"error", "invalid_grant"}}, "refresh token already used");
        }
        state.seen.count_payer_refresh_rejection("invalid_request");
        return oauth_error(
            400,
            {{"status_code", 400},
             {"error", "invalid_request"},
             {"error_description", "Missing refresh token parameter"}},
            "refresh token unknown"
        );
    }

    state.seen.count_payer_refresh();
    return token_pair_response(state, std::get<payer_token_pair>(outcome), now_ms);
}

// The link URL of one page: every original parameter except the paging ones, then
// startIndex and _count.
std::string page_url(
    const sandbox_state& state,
    std::string_view resource,
    std::string_view encoded_query,
    std::size_t start,
    std::size_t count
)
{
    std::string url = "https://127.0.0.1:" + std::to_string(state.port(host_kind::payer)) + "/v2/fhir/" +
                      std::string(resource) + "?";
    if (const auto params = urls::parse_query(urls::string_view(encoded_query.data(), encoded_query.size())))
    {
        for (const auto& param : *params)
        {
            if (param.key == "startIndex" || param.key == "_count" || param.key == "count")
                continue;
            url += std::string(param.key);
            if (param.has_value)
                url += "=" + std::string(param.value);
            url += "&";
        }
    }
    url += "startIndex=" + std::to_string(start) + "&_count=" + std::to_string(count);
    return url;
}

json::object link(std::string_view relation, std::string url)
{
    return json::object{{"relation", relation}, {"url", std::move(url)}};
}

// A searchset Bundle with offset paging links as Blue Button's back end builds them.
json::object searchset(
    const sandbox_state& state,
    std::string_view resource,
    std::string_view encoded_query,
    std::size_t start,
    std::size_t count,
    std::size_t total,
    json::array entries,
    std::int64_t now_ms
)
{
    json::array links;
    links.push_back(link("first", page_url(state, resource, encoded_query, 0, count)));
    if (start > 0)
    {
        const std::size_t previous = start > count ? start - count : 0;
        links.push_back(link("previous", page_url(state, resource, encoded_query, previous, count)));
    }
    if (start + count < total)
        links.push_back(link("next", page_url(state, resource, encoded_query, start + count, count)));
    const std::size_t last = total == 0 ? 0 : (total - 1) / count * count;
    links.push_back(link("last", page_url(state, resource, encoded_query, last, count)));
    links.push_back(link("self", page_url(state, resource, encoded_query, start, count)));

    const std::uint64_t h = mix_hash(static_cast<std::uint64_t>(now_ms), total, start);
    json::object bundle{
        {"resourceType", "Bundle"},
        {"id",
         random_text(8, h, 1, 1) + "-" + random_text(4, h, 2, 2) + "-" + random_text(4, h, 3, 3) + "-" +
             random_text(4, h, 4, 4) + "-" + random_text(12, h, 5, 5)},
        {"meta", json::object{{"lastUpdated", format_instant(now_ms)}}},
        {"type", "searchset"},
        {"total", total},
        {"link", std::move(links)},
    };
    if (!entries.empty())
        bundle["entry"] = std::move(entries);
    return bundle;
}

// Paging parameters shared by the searches.
struct paging
{
    std::size_t start = 0;
    std::size_t count = default_page_size;
};

std::optional<std::string> read_paging(const std::vector<query_param>& params, paging& out)
{
    auto count_text = find_param(params, "_count");
    if (!count_text)
        count_text = find_param(params, "count");
    if (count_text)
    {
        const auto count = parse_int(*count_text);
        if (!count || *count < 1 || *count > max_page_size)
            return "_count must be an integer from 1 to 50";
        out.count = static_cast<std::size_t>(*count);
    }
    if (const auto start_text = find_param(params, "startIndex"))
    {
        const auto start = parse_int(*start_text);
        if (!start || *start < 0)
            return "startIndex must be a non-negative integer";
        out.start = static_cast<std::size_t>(*start);
    }
    return std::nullopt;
}

// Strips an optional "Patient/" prefix from a patient search parameter.
std::string_view patient_param_id(std::string_view value)
{
    if (value.starts_with("Patient/"))
        value.remove_prefix(8);
    return value;
}

// Blue Button replaces the patient parameter with the token's patient; a different value
// is served the same way but counted as a client mistake.
void check_patient_param(
    sandbox_state& state,
    const std::vector<query_param>& params,
    std::initializer_list<std::string_view> names,
    const std::string& payer_id,
    const std::string& route
)
{
    for (const auto name : names)
    {
        for (const auto& param : params)
        {
            if (param.key == name && patient_param_id(param.value) != payer_id)
                state.seen.count_rejection(
                    host_kind::payer,
                    route,
                    name == "patient" ? "patient parameter is not the token's patient"
                                      : "beneficiary parameter is not the token's patient"
                );
        }
    }
}

struct last_updated_filter
{
    char op[3] = {};
    std::int64_t instant_us = 0;
};

bool matches(
    const eob_record& eob, const std::vector<last_updated_filter>& filters, const std::set<claim_type>& types
)
{
    if (!types.empty() && !types.contains(eob.type))
        return false;
    const std::int64_t value = eob.last_updated_ms * 1000;
    for (const auto& filter : filters)
    {
        const std::string_view op = filter.op;
        const bool ok = op == "gt"   ? value > filter.instant_us
                        : op == "ge" ? value >= filter.instant_us
                        : op == "lt" ? value < filter.instant_us
                                     : value <= filter.instant_us;
        if (!ok)
            return false;
    }
    return true;
}

// Parses the `type` parameter: codes or "<eob-type system>|code", or the bare system with
// "|" meaning every type. Returns false when an item is not valid.
bool parse_type_param(std::string_view text, std::set<claim_type>& types)
{
    std::vector<std::string> items;
    boost::algorithm::split(items, text, [](char c) { return c == ','; });
    for (auto item : items)
    {
        std::string_view code = item;
        if (const auto bar = code.find('|'); bar != std::string_view::npos)
        {
            if (!boost::algorithm::iequals(code.substr(0, bar), eob_type_system))
                return false;
            code = code.substr(bar + 1);
            if (code.empty())
            {
                for (std::size_t i = 0; i < claim_type_count; ++i)
                    types.insert(static_cast<claim_type>(i));
                continue;
            }
        }
        const auto type = parse_claim_type(code);
        if (!type)
            return false;
        types.insert(*type);
    }
    return true;
}

route_response handle_eob_search(
    sandbox_state& state, const request_target& target, std::size_t patient, std::int64_t now_ms
)
{
    const std::string route = "/v2/fhir/ExplanationOfBenefit";
    const auto& payer_id = state.data.patients()[patient].payer_id;
    check_patient_param(state, target.params, {"patient"}, payer_id, route);

    // Parameters, in the order Blue Button checks them.
    paging page;
    if (const auto error = read_paging(target.params, page))
        return detail_response(400, *error, route, *error);
    std::vector<last_updated_filter> filters;
    std::vector<std::string> last_updated_texts;
    for (const auto& param : target.params)
    {
        if (param.key != "_lastUpdated")
            continue;
        const std::string_view text = param.value;
        const std::string_view op = text.substr(0, 2);
        if (text.size() < 3 || (op != "gt" && op != "ge" && op != "lt" && op != "le"))
            return detail_response(
                400, "the _lastUpdated operator is not valid", route, "the _lastUpdated operator is not valid"
            );
        const auto instant = parse_instant_us(text.substr(2));
        if (!instant)
            return detail_response(
                400,
                "the _lastUpdated value is not a valid FHIR date or instant",
                route,
                "the _lastUpdated value is not a valid FHIR date or instant"
            );
        last_updated_filter filter;
        filter.op[0] = op[0];
        filter.op[1] = op[1];
        filter.instant_us = *instant;
        filters.push_back(filter);
        last_updated_texts.emplace_back(text);
    }
    std::set<claim_type> types;
    for (const auto& param : target.params)
    {
        if (param.key == "type" && !parse_type_param(param.value, types))
            return detail_response(
                400, "the type parameter value is not valid", route, "the type parameter value is not valid"
            );
    }

    // Select, then page.
    std::vector<const eob_record*> selected;
    for (const auto& eob : state.data.eobs(patient))
    {
        if (matches(eob, filters, types))
            selected.push_back(&eob);
    }
    const std::size_t total = selected.size();
    if (total > 0 && page.start >= total)
    {
        const std::string detail = "An error occurred contacting the upstream server:Value for startIndex (" +
                                   std::to_string(page.start) + ") must be less than than result size (" +
                                   std::to_string(total) + ")";
        return detail_response(400, detail, route, "startIndex is not less than the result size");
    }
    json::array entries;
    const std::size_t end = std::min(total, page.start + page.count);
    for (std::size_t i = page.start; i < end; ++i)
        entries.push_back(json::object{
            {"resource", state.renderer.render_eob(state.data.patients()[patient], *selected[i])}});
    const std::size_t returned = entries.size();

    state.seen.record_eob_search({payer_id, std::move(last_updated_texts), page.start, page.count, returned});
    const auto bundle = searchset(
        state,
        "ExplanationOfBenefit",
        target.encoded_query,
        page.start,
        page.count,
        total,
        std::move(entries),
        now_ms
    );
    return {make_text_response(200, to_fhir_json(bundle), fhir_json), route, {}};
}

route_response handle_coverage_search(
    sandbox_state& state, const request_target& target, std::size_t patient, std::int64_t now_ms
)
{
    const std::string route = "/v2/fhir/Coverage";
    const auto& record = state.data.patients()[patient];
    check_patient_param(state, target.params, {"beneficiary", "patient"}, record.payer_id, route);
    paging page;
    if (const auto error = read_paging(target.params, page))
        return detail_response(400, *error, route, *error);

    auto coverages = state.renderer.render_coverages(patient, record);
    const std::size_t total = coverages.size();
    if (page.start >= total)
    {
        const std::string detail = "An error occurred contacting the upstream server:Value for startIndex (" +
                                   std::to_string(page.start) + ") must be less than than result size (" +
                                   std::to_string(total) + ")";
        return detail_response(400, detail, route, "startIndex is not less than the result size");
    }
    json::array entries;
    for (std::size_t i = page.start; i < std::min(total, page.start + page.count); ++i)
        entries.push_back(json::object{{"resource", std::move(coverages[i])}});
    const auto bundle = searchset(
        state, "Coverage", target.encoded_query, page.start, page.count, total, std::move(entries), now_ms
    );
    return {make_text_response(200, to_fhir_json(bundle), fhir_json), route, {}};
}

route_response handle_eob_read(sandbox_state& state, std::string_view id, std::size_t patient)
{
    const std::string route = "/v2/fhir/ExplanationOfBenefit/{id}";
    for (const auto& eob : state.data.eobs(patient))
    {
        if (payer_data::eob_id(eob) == id)
        {
            const auto resource = state.renderer.render_eob(state.data.patients()[patient], eob);
            return {make_text_response(200, to_fhir_json(resource), fhir_json), route, {}};
        }
    }
    return detail_response(404, "Not found.", route, "EOB not found for the token's patient");
}

// Every FHIR call: the token must be in the Authorization header, live and unexpired.
route_response handle_fhir(
    sandbox_state& state, const http_request& request, const request_target& target, std::int64_t now_ms
)
{
    std::string_view path = target.path;
    std::string route = std::string(path);
    const bool is_patient_read = path.starts_with("/v2/fhir/Patient/") && path.size() > 17;
    const bool is_eob_read = path.starts_with("/v2/fhir/ExplanationOfBenefit/") && path.size() > 30;
    const bool carin = state.mode == payer_mode::carin;
    const bool is_practitioner_read = carin && path.starts_with("/v2/fhir/Practitioner/") && path.size() > 22;
    const bool is_organization_read = carin && path.starts_with("/v2/fhir/Organization/") && path.size() > 22;
    if (is_practitioner_read)
        route = "/v2/fhir/Practitioner/{id}";
    else if (is_organization_read)
        route = "/v2/fhir/Organization/{id}";
    else if (is_patient_read)
        route = "/v2/fhir/Patient/{id}";
    else if (is_eob_read)
        route = "/v2/fhir/ExplanationOfBenefit/{id}";
    else if (path.ends_with('/'))
        route.pop_back();

    if (find_param(target.params, "access_token"))
    {
        return detail_response(
            400,
            "Using the access token in the query parameters is not supported. Use the Authorization header "
            "instead",
            route,
            "access token in the query string"
        );
    }
    const auto token = bearer_token(request);
    if (token && state.org.is_valid_token(*token))
        state.seen.count_foreign_authorization(host_kind::payer);
    const auto patient = token ? state.payer_tokens.patient_of_access_token(*token, now_ms) : std::nullopt;
    if (!patient)
    {
        const char* reason = !token                                  ? "missing bearer token"
                             : state.org.is_valid_token(*token)      ? "Salesforce token sent to the payer"
                             : state.payer_tokens.was_issued(*token) ? "expired or revoked access token"
                                                                     : "unknown access token";
        const auto owner = token ? state.payer_tokens.issued_to(*token) : std::nullopt;
        const bool grant_expired = owner && state.payer_tokens.grant(*owner) == grant_status::expired;
        auto response = detail_response(
            401,
            grant_expired ? grant_expired_message : not_authenticated,
            route,
            grant_expired ? "13-month grant expired" : reason
        );
        response.response.set(http::field::www_authenticate, "Bearer realm=\"api\"");
        return response;
    }
    if (request.method() != http::verb::get)
        return detail_response(
            405,
            "Method \"" + std::string(request.method_string()) + "\" not allowed.",
            route,
            "method not allowed"
        );

    if (is_patient_read)
    {
        const std::string_view id = path.substr(17);
        const auto& record = state.data.patients()[*patient];
        if (id != record.payer_id)
            return detail_response(404, "Not found.", route, "Patient id is not the token's patient");
        return {
            make_text_response(200, to_fhir_json(state.renderer.render_patient(*patient, record)), fhir_json),
            route,
            {}};
    }
    if (carin)
    {
        if (is_practitioner_read)
            return handle_carin_reference_read(state, "Practitioner", path.substr(22));
        if (is_organization_read)
            return handle_carin_reference_read(state, "Organization", path.substr(22));
        if (is_eob_read)
            return handle_carin_eob_read(state, path.substr(30), *patient);
        if (route == "/v2/fhir/Coverage")
            return handle_carin_coverage_search(state, target, *patient, now_ms);
        if (route == "/v2/fhir/ExplanationOfBenefit")
            return handle_carin_eob_search(state, target, *patient, now_ms);
    }
    if (is_eob_read)
        return handle_eob_read(state, path.substr(30), *patient);
    if (route == "/v2/fhir/Coverage")
        return handle_coverage_search(state, target, *patient, now_ms);
    if (route == "/v2/fhir/ExplanationOfBenefit")
        return handle_eob_search(state, target, *patient, now_ms);
    return detail_response(404, "Not found.", route, "no such FHIR endpoint");
}

route_response handle_admin(
    sandbox_state& state, const http_request& request, const request_target& target, std::int64_t now_ms
)
{
    const std::string route = target.path;
    if (request.method() != http::verb::post)
        return detail_response(
            405,
            "Method \"" + std::string(request.method_string()) + "\" not allowed.",
            route,
            "method not allowed"
        );
    if (route == "/_sandbox/eobs")
    {
        const auto text = find_param(target.params, "per_patient");
        const auto per_patient = text ? parse_int(*text) : std::nullopt;
        if (!per_patient || *per_patient < 1 || *per_patient > 1000)
            return detail_response(
                400, "per_patient must be an integer from 1 to 1000", route, "invalid per_patient"
            );
        try
        {
            const auto added = state.data.add_eobs(*per_patient, now_ms);
            return {make_json_response(200, json::object{{"added", added}}), route, {}};
        }
        catch (const std::length_error&)
        {
            return detail_response(
                400, "per_patient would pass 1048576 EOBs for a patient", route, "too many EOBs"
            );
        }
    }
    const auto patient_id = find_param(target.params, "patient");
    const auto patient = patient_id ? state.data.find_by_payer_id(*patient_id) : std::nullopt;
    if (!patient)
        return detail_response(404, "Not found.", route, "unknown patient for consent");
    if (route == "/_sandbox/revoke" || route == "/_sandbox/expire_grant")
    {
        state.payer_tokens.end_grant(
            *patient, route == "/_sandbox/revoke" ? grant_status::revoked : grant_status::expired
        );
        return {make_json_response(200, json::object{{"patient", *patient_id}}), route, {}};
    }
    if (route == "/_sandbox/authorization_code")
    {
        const auto challenge = find_param(target.params, "code_challenge");
        const auto method = find_param(target.params, "code_challenge_method").value_or("S256");
        if (!challenge || challenge->size() != 43 || method != "S256")
            return detail_response(
                400,
                "code_challenge must be a 43-character BASE64URL S256 challenge and code_challenge_method "
                "S256",
                route,
                "invalid code_challenge"
            );
        return {
            make_json_response(
                200,
                json::object{
                    {"code", state.payer_tokens.issue_authorization_code(*patient, *challenge, now_ms)},
                    {"expires_in", 60}}
            ),
            route,
            {}};
    }
    return {
        make_json_response(200, json::object{{"refresh_token", state.payer_tokens.renew_consent(*patient)}}),
        route,
        {}};
}

// Serves the CapabilityStatement, which needs no token: FHIR R4, JSON, the SMART OAuth
// endpoints and the resources and search parameters the sandbox supports.
route_response handle_metadata(const sandbox_state& state, const http_request& request, std::int64_t now_ms)
{
    const std::string route = "/v2/fhir/metadata";
    if (request.method() != http::verb::get)
        return detail_response(
            405,
            "Method \"" + std::string(request.method_string()) + "\" not allowed.",
            route,
            "method not allowed"
        );
    const auto base = "https://127.0.0.1:" + std::to_string(state.port(host_kind::payer));
    const auto search_param = [](std::string_view name, std::string_view type) {
        return json::object{{"name", name}, {"type", type}};
    };
    const bool carin = state.mode == payer_mode::carin;
    const auto read_only = [](std::string_view type) {
        return json::object{{"type", type}, {"interaction", json::array{json::object{{"code", "read"}}}}};
    };
    json::array eob_params{
        search_param("patient", "reference"),
        search_param("_lastUpdated", "date"),
        search_param("type", "token"),
        search_param("_count", "number")};
    if (!carin)
        eob_params.push_back(search_param("startIndex", "string"));
    json::array resources{
        read_only("Patient"),
        json::object{
            {"type", "Coverage"},
            {"interaction", json::array{json::object{{"code", "search-type"}}}},
            {"searchParam",
             json::array{
                 search_param(carin ? "patient" : "beneficiary", "reference"),
                 search_param("_count", "number")}},
        },
        json::object{
            {"type", "ExplanationOfBenefit"},
            {"interaction",
             json::array{json::object{{"code", "read"}}, json::object{{"code", "search-type"}}}},
            {"searchParam", std::move(eob_params)},
        },
    };
    if (carin)
    {
        resources.push_back(read_only("Practitioner"));
        resources.push_back(read_only("Organization"));
    }
    json::object oauth_uris{
        {"url", "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"},
        {"extension",
         json::array{
             json::object{{"url", "authorize"}, {"valueUri", base + "/v2/o/authorize/"}},
             json::object{{"url", "token"}, {"valueUri", base + "/v2/o/token/"}}}},
    };
    json::object statement{
        {"resourceType", "CapabilityStatement"},
        {"status", "active"},
        {"date", format_instant(now_ms)},
        {"publisher", "bbsync-sandbox"},
        {"kind", "instance"},
        {"software", json::object{{"name", "bbsync-sandbox"}}},
        {"implementation",
         json::object{
             {"description", carin ? "CARIN Blue Button payer emulator" : "Blue Button 2.0 emulator"},
             {"url", base + "/v2/fhir"}}},
        {"fhirVersion", "4.0.1"},
        {"format", json::array{"application/fhir+json", "json"}},
        {"rest",
         json::array{json::object{
             {"mode", "server"},
             {"security", json::object{{"extension", json::array{oauth_uris}}}},
             {"resource", std::move(resources)}}}},
    };
    // CARIN servers declare that they instantiate the C4BB CapabilityStatement.
    if (carin)
        statement["instantiates"] =
            json::array{"http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb|2.0.0"};
    return {make_json_response(200, statement, fhir_json), route, {}};
}

// Serves the OpenID Connect userinfo of the token's patient: its id as "sub" and "patient".
route_response handle_userinfo(sandbox_state& state, const http_request& request, std::int64_t now_ms)
{
    const std::string route = "/v2/connect/userinfo";
    const auto token = bearer_token(request);
    const auto patient = token ? state.payer_tokens.patient_of_access_token(*token, now_ms) : std::nullopt;
    if (!patient)
    {
        auto response = detail_response(
            401, not_authenticated, route, token ? "invalid access token" : "missing bearer token"
        );
        response.response.set(http::field::www_authenticate, "Bearer realm=\"api\"");
        return response;
    }
    if (request.method() != http::verb::get)
        return detail_response(
            405,
            "Method \"" + std::string(request.method_string()) + "\" not allowed.",
            route,
            "method not allowed"
        );
    const auto& id = state.data.patients()[*patient].payer_id;
    return {
        make_json_response(200, json::object{{"sub", id}, {"patient", id}, {"iat", format_instant(now_ms)}}),
        route,
        {}};
}

}  // namespace

route_response handle_payer_request(sandbox_state& state, const http_request& request, std::int64_t now_ms)
{
    const auto target = parse_target(request.target());
    if (!target)
        return detail_response(
            400, "The request target is not a valid URL.", "(malformed target)", "malformed request target"
        );

    if (target->path == "/v2/o/token" || target->path == "/v2/o/token/")
    {
        if (request.method() != http::verb::post)
            return detail_response(
                405,
                "Method \"" + std::string(request.method_string()) + "\" not allowed.",
                "/v2/o/token/",
                "method not allowed"
            );
        return handle_token(state, request, now_ms);
    }
    if (target->path == "/v2/fhir/metadata")
        return handle_metadata(state, request, now_ms);
    if (target->path == "/v2/connect/userinfo" || target->path == "/v2/connect/userinfo/")
        return handle_userinfo(state, request, now_ms);
    if (target->path.starts_with("/v2/fhir/"))
        return handle_fhir(state, request, *target, now_ms);
    if (target->path == "/_sandbox/eobs" || target->path == "/_sandbox/consent" ||
        target->path == "/_sandbox/authorization_code" || target->path == "/_sandbox/revoke" ||
        target->path == "/_sandbox/expire_grant")
        return handle_admin(state, request, *target, now_ms);
    return detail_response(404, "Not found.", target->path.substr(0, 100), "no such route");
}

}  // namespace bbsync::sandbox

#include "sandbox/healthcloud_routes.hpp"

#include <boost/beast/http/verb.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <map>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/fhir_time.hpp"
#include "sandbox/request_parsing.hpp"

namespace bbsync::sandbox {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view bundle_route = "/bundle/fhir-r4/v1/Bundle";
constexpr std::string_view fhir_json = "application/fhir+json";
constexpr std::size_t max_entries = 30;
constexpr std::string_view practitioner_route = "/bundle/fhir-r4/v1/Practitioner";
// Reason of an entry rejected by the entry_400 fault; it is not counted as a client mistake.
constexpr std::string_view injected_entry_fault = "entry rejected by an injected fault";

json::object operation_outcome(std::string_view code, std::string_view diagnostics)
{
    return json::object{
        {"resourceType", "OperationOutcome"},
        {"issue",
         json::array{json::object{{"severity", "error"}, {"code", code}, {"diagnostics", diagnostics}}}},
    };
}

route_response outcome_response(unsigned status, std::string_view code, const std::string& reason)
{
    return {
        make_json_response(status, operation_outcome(code, reason), fhir_json),
        std::string(bundle_route),
        reason};
}

enum class entry_state
{
    pending,
    stored,
    matched,
    invalid,
    failed_dependency,
};

struct entry_work
{
    entry_state state = entry_state::pending;
    std::string reason;
    std::size_t type = 0;
    std::string identifier_key;
    bool conditional = false;
    std::string location;
    std::vector<std::string> urn_references;
    std::vector<std::string> other_references;
    const json::object* resource = nullptr;
};

bool is_urn_uuid(std::string_view text)
{
    static const std::regex pattern(
        "urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    );
    return std::regex_match(text.begin(), text.end(), pattern);
}

// Collects every Reference.reference string below `value`.
void collect_references(const json::value& value, std::vector<std::string>& out)
{
    if (const auto* object = value.if_object())
    {
        for (const auto& member : *object)
        {
            if (member.key() == "reference" && member.value().is_string())
                out.emplace_back(member.value().get_string());
            else
                collect_references(member.value(), out);
        }
    }
    else if (const auto* array = value.if_array())
    {
        for (const auto& element : *array)
            collect_references(element, out);
    }
}

bool has_member(const json::object& object, std::string_view name)
{
    const auto* value = object.if_contains(name);
    return value != nullptr && !value->is_null();
}

bool has_reference(const json::object& object, std::string_view name)
{
    const auto* value = object.if_contains(name);
    if (value == nullptr || !value->is_object())
        return false;
    const auto* reference = value->get_object().if_contains("reference");
    return reference != nullptr && reference->is_string() && !reference->get_string().empty();
}

// Returns the reason a resource misses a required element, or an empty string.
std::string missing_required(std::string_view type, const json::object& resource)
{
    struct requirement
    {
        std::string_view type;
        std::string_view element;
        bool reference;
    };
    static constexpr requirement requirements[] = {
        {"Encounter", "status", false},
        {"Encounter", "class", false},
        {"Encounter", "subject", true},
        {"Condition", "code", false},
        {"Condition", "subject", true},
        {"Procedure", "status", false},
        {"Procedure", "code", false},
        {"Procedure", "subject", true},
        {"MedicationRequest", "status", false},
        {"MedicationRequest", "intent", false},
        {"MedicationRequest", "medicationCodeableConcept", false},
        {"MedicationRequest", "subject", true},
    };
    for (const auto& item : requirements)
    {
        if (item.type != type)
            continue;
        const bool present =
            item.reference ? has_reference(resource, item.element) : has_member(resource, item.element);
        if (!present)
            return std::string(type) + "." + std::string(item.element) + " is required";
    }
    return {};
}

// Parses "identifier=<system>|<value>" (percent-encoded like a query) into "system|value".
std::optional<std::string> parse_if_none_exist(std::string_view text)
{
    const auto params = parse_target("/?" + std::string(text));
    if (!params || params->params.size() != 1 || params->params.front().key != "identifier")
        return std::nullopt;
    const auto& key = params->params.front().value;
    const auto bar = key.find('|');
    if (bar == std::string::npos || bar == 0 || bar + 1 == key.size())
        return std::nullopt;
    return key;
}

// Checks the shape of one entry and fills `work` with what resolution needs.
void validate_entry(const json::value& entry_value, entry_work& work)
{
    const auto invalid = [&](std::string reason) {
        work.state = entry_state::invalid;
        work.reason = std::move(reason);
    };
    const auto* entry = entry_value.if_object();
    if (entry == nullptr)
        return invalid("entry is not an object");
    const auto* resource_value = entry->if_contains("resource");
    if (resource_value == nullptr || !resource_value->is_object())
        return invalid("entry.resource is missing");
    const auto& resource = resource_value->get_object();
    work.resource = &resource;
    const auto* request_value = entry->if_contains("request");
    if (request_value == nullptr || !request_value->is_object())
        return invalid("entry.request is missing");
    const auto& request = request_value->get_object();

    // Resource type and request line.
    const auto* type_value = resource.if_contains("resourceType");
    const std::string_view type =
        type_value != nullptr && type_value->is_string() ? std::string_view(type_value->get_string()) : "";
    const auto type_index = healthcloud_store::type_index(type);
    if (!type_index)
        return invalid("unsupported resource type");
    work.type = *type_index;
    const auto* method = request.if_contains("method");
    if (method == nullptr || !method->is_string() || method->get_string() != "POST")
        return invalid("request.method must be POST");
    const auto* url = request.if_contains("url");
    if (url == nullptr || !url->is_string() || url->get_string() != type)
        return invalid("request.url does not match the resource type");

    // Identifier: the key records are stored under.
    const auto* identifiers = resource.if_contains("identifier");
    if (identifiers == nullptr || !identifiers->is_array() || identifiers->get_array().empty() ||
        !identifiers->get_array().front().is_object())
        return invalid("identifier is missing");
    const auto& first = identifiers->get_array().front().get_object();
    const auto* system = first.if_contains("system");
    const auto* value = first.if_contains("value");
    if (system == nullptr || !system->is_string() || system->get_string().empty() || value == nullptr ||
        !value->is_string() || value->get_string().empty())
        return invalid("identifier[0] needs a system and a value");
    work.identifier_key = std::string(system->get_string()) + "|" + std::string(value->get_string());

    if (auto reason = missing_required(type, resource); !reason.empty())
        return invalid(std::move(reason));

    // Conditional create.
    if (const auto* condition = request.if_contains("ifNoneExist"))
    {
        const auto key = condition->is_string() ? parse_if_none_exist(condition->get_string()) : std::nullopt;
        if (!key)
            return invalid("ifNoneExist is not identifier=<system>|<value>");
        if (*key != work.identifier_key)
            return invalid("ifNoneExist does not match identifier[0]");
        work.conditional = true;
    }

    // References, split into same-bundle ones and the rest.
    std::vector<std::string> references;
    collect_references(resource, references);
    for (auto& reference : references)
    {
        if (reference.starts_with("urn:uuid:"))
            work.urn_references.push_back(std::move(reference));
        else
            work.other_references.push_back(std::move(reference));
    }
}

// Returns true when a literal reference names a known patient or a stored record.
bool resolves(const sandbox_state& state, std::string_view reference)
{
    const auto slash = reference.find('/');
    if (slash == std::string_view::npos || reference.find('/', slash + 1) != std::string_view::npos)
        return false;
    const std::string_view type = reference.substr(0, slash);
    const std::string_view id = reference.substr(slash + 1);
    if (type == "Patient")
        return state.data.find_by_sf_id(id).has_value();
    const auto type_index = healthcloud_store::type_index(type);
    return type_index && state.clinical.contains_id(*type_index, id);
}

json::object entry_response(const entry_work& work, std::int64_t now_ms)
{
    json::object response;
    switch (work.state)
    {
    case entry_state::stored:
        response["status"] = "201 Created";
        response["location"] = work.location;
        response["etag"] = "W/\"1\"";
        response["lastModified"] = format_instant(now_ms);
        break;
    case entry_state::matched:
        response["status"] = "200 OK";
        response["location"] = work.location;
        break;
    case entry_state::failed_dependency:
        response["status"] = "424 Failed Dependency";
        response["outcome"] = operation_outcome("processing", work.reason);
        break;
    default:
        response["status"] = "400 Bad Request";
        response["outcome"] = operation_outcome("invalid", work.reason);
        break;
    }
    return json::object{{"response", std::move(response)}};
}

// Runs one entry whose same-bundle dependencies are settled: resolve, then store or match.
void settle_entry(
    sandbox_state& state,
    entry_work& work,
    const std::map<std::string, std::size_t>& by_full_url,
    const std::vector<entry_work>& works
)
{
    for (const auto& urn : work.urn_references)
    {
        const auto& dependency = works[by_full_url.at(urn)];
        if (dependency.state == entry_state::invalid || dependency.state == entry_state::failed_dependency)
        {
            work.state = entry_state::failed_dependency;
            work.reason = "depends on entry " + urn + ", which failed";
            return;
        }
    }
    for (const auto& reference : work.other_references)
    {
        if (!resolves(state, reference))
        {
            work.state = entry_state::invalid;
            const auto slash = reference.find('/');
            work.reason =
                "reference does not resolve to a known " +
                (slash == std::string::npos ? std::string("resource")
                                            : reference.substr(0, std::min<std::size_t>(slash, 40)));
            return;
        }
    }
    if (work.conditional)
    {
        if (auto existing = state.clinical.find(work.type, work.identifier_key))
        {
            work.state = entry_state::matched;
            work.location = std::string(healthcloud_resource_types[work.type]) + "/" + *existing;
            return;
        }
    }
    work.state = entry_state::stored;
    const auto id = state.clinical.store(work.type, work.identifier_key);
    work.location = std::string(healthcloud_resource_types[work.type]) + "/" + id;
    if (healthcloud_resource_types[work.type] == "Practitioner")
        state.clinical.keep_practitioner(id, *work.resource);
}

route_response handle_bundle(
    sandbox_state& state, const http_request& request, std::int64_t now_ms, bool reject_first_entry
)
{
    // Bundle-level checks: any failure rejects the whole request.
    if (const auto type = media_type(request); type != "application/fhir+json" && type != "application/json")
        return outcome_response(415, "not-supported", "Content-Type must be application/fhir+json");
    boost::system::error_code ec;
    const auto body = json::parse(request.body(), ec);
    if (ec || !body.is_object())
        return outcome_response(400, "structure", "request body is not a JSON object");
    const auto& bundle = body.get_object();
    const auto* resource_type = bundle.if_contains("resourceType");
    if (resource_type == nullptr || !resource_type->is_string() || resource_type->get_string() != "Bundle")
        return outcome_response(400, "structure", "resourceType must be Bundle");
    const auto* bundle_type = bundle.if_contains("type");
    if (bundle_type == nullptr || !bundle_type->is_string() || bundle_type->get_string() != "batch")
        return outcome_response(400, "not-supported", "Bundle.type must be batch");
    static const json::array no_entries;
    const json::array* entries = &no_entries;
    if (const auto* entry_value = bundle.if_contains("entry"))
    {
        if (!entry_value->is_array())
            return outcome_response(400, "structure", "Bundle.entry must be an array");
        entries = &entry_value->get_array();
    }
    if (entries->size() > max_entries)
        return outcome_response(400, "too-costly", "a batch Bundle may have at most 30 entries");

    // Shape of each entry, and the fullUrl index.
    std::vector<entry_work> works(entries->size());
    std::map<std::string, std::size_t> by_full_url;
    for (std::size_t i = 0; i < entries->size(); ++i)
    {
        const auto& entry = (*entries)[i];
        validate_entry(entry, works[i]);
        const auto* full_url = entry.is_object() ? entry.get_object().if_contains("fullUrl") : nullptr;
        if (full_url == nullptr)
            continue;
        if (!full_url->is_string() || !is_urn_uuid(full_url->get_string()))
        {
            works[i].state = entry_state::invalid;
            works[i].reason = "fullUrl must be urn:uuid:<uuid>";
            continue;
        }
        if (!by_full_url.emplace(std::string(full_url->get_string()), i).second)
        {
            works[i].state = entry_state::invalid;
            works[i].reason = "fullUrl is used by an earlier entry";
        }
    }
    if (reject_first_entry && !works.empty() && works[0].state == entry_state::pending)
    {
        works[0].state = entry_state::invalid;
        works[0].reason = injected_entry_fault;
    }
    for (auto& work : works)
    {
        for (const auto& urn : work.urn_references)
        {
            if (work.state == entry_state::pending && !by_full_url.contains(urn))
            {
                work.state = entry_state::invalid;
                work.reason = "urn:uuid reference to no entry of this Bundle";
            }
        }
    }

    // Settle entries whose dependencies are settled until nothing moves; what is left waits
    // on itself through a cycle.
    for (bool progress = true; progress;)
    {
        progress = false;
        for (auto& work : works)
        {
            if (work.state != entry_state::pending)
                continue;
            bool ready = true;
            for (const auto& urn : work.urn_references)
                ready = ready && works[by_full_url.at(urn)].state != entry_state::pending;
            if (!ready)
                continue;
            settle_entry(state, work, by_full_url, works);
            progress = true;
        }
    }

    // Response in request order; rejected entries are counted as client mistakes.
    json::array response_entries;
    for (auto& work : works)
    {
        if (work.state == entry_state::pending)
        {
            work.state = entry_state::invalid;
            work.reason = "urn:uuid references form a cycle";
        }
        if (work.state == entry_state::invalid && work.reason != injected_entry_fault)
            state.seen.count_rejection(
                host_kind::healthcloud, std::string(bundle_route) + " entry", work.reason
            );
        response_entries.push_back(entry_response(work, now_ms));
    }
    json::object result{
        {"resourceType", "Bundle"},
        {"type", "batch-response"},
        {"entry", std::move(response_entries)},
    };
    return {make_json_response(200, result, fhir_json), std::string(bundle_route), {}};
}

// Handles GET /bundle/fhir-r4/v1/Practitioner?identifier=SYSTEM|VALUE: a searchset Bundle of
// the stored Practitioners with that identifier.
route_response handle_practitioner_search(const sandbox_state& state, const http_request& request)
{
    const auto route = [](route_response response) {
        response.route = std::string(practitioner_route);
        return response;
    };
    if (request.method() != http::verb::get)
        return route(outcome_response(405, "not-supported", "only GET is supported on Practitioner"));
    const auto target = parse_target(request.target());
    const auto identifier = target ? find_param(target->params, "identifier") : std::nullopt;
    const auto bar = identifier ? identifier->find('|') : std::string::npos;
    if (bar == std::string::npos || bar == 0 || bar + 1 == identifier->size())
        return route(outcome_response(400, "invalid", "identifier must be <system>|<value>"));

    json::array entries;
    const auto base = "https://127.0.0.1:" + std::to_string(state.port(host_kind::healthcloud)) +
                      std::string(practitioner_route) + "/";
    for (const auto* practitioner : state.clinical.find_practitioners(
             std::string_view(*identifier).substr(0, bar), std::string_view(*identifier).substr(bar + 1)
         ))
    {
        entries.push_back(json::object{
            {"fullUrl", base + std::string(practitioner->at("id").as_string())},
            {"resource", *practitioner},
            {"search", json::object{{"mode", "match"}}},
        });
    }
    json::object bundle{
        {"resourceType", "Bundle"},
        {"type", "searchset"},
        {"total", entries.size()},
        {"entry", std::move(entries)},
    };
    return {make_json_response(200, bundle, fhir_json), std::string(practitioner_route), {}};
}

}  // namespace

route_response handle_healthcloud_request(
    sandbox_state& state, const http_request& request, std::int64_t now_ms, bool reject_first_entry
)
{
    std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == practitioner_route)
    {
        const auto token = bearer_token(request);
        if (!token || !state.org.is_live_token(*token, now_ms))
        {
            json::array body{
                json::object{{"message", "Session expired or invalid"}, {"errorCode", "INVALID_SESSION_ID"}}};
            return {
                make_json_response(401, body),
                std::string(practitioner_route),
                token ? "invalid session" : "missing bearer token"};
        }
        return handle_practitioner_search(state, request);
    }
    if (path != "/bundle/fhir-r4/v1/Bundle" && path != "/bundle/fhir-r4/v1/" && path != "/bundle/fhir-r4/v1")
    {
        auto response = outcome_response(404, "not-found", "no such endpoint");
        response.route = std::string(path.substr(0, 100));
        return response;
    }

    const auto token = bearer_token(request);
    if (token && state.payer_tokens.was_issued(*token))
        state.seen.count_foreign_authorization(host_kind::healthcloud);
    if (!token || !state.org.is_live_token(*token, now_ms))
    {
        json::array body{
            json::object{{"message", "Session expired or invalid"}, {"errorCode", "INVALID_SESSION_ID"}}};
        return {
            make_json_response(401, body),
            std::string(bundle_route),
            token ? "invalid session" : "missing bearer token"};
    }
    if (request.method() != http::verb::post)
        return outcome_response(405, "not-supported", "only POST is supported on the bundle endpoint");
    return handle_bundle(state, request, now_ms, reject_first_entry);
}

}  // namespace bbsync::sandbox

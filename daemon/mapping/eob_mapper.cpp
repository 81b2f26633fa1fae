#include "daemon/mapping/eob_mapper.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "daemon/mapping/fhir_checks.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "daemon/mapping/json_access.hpp"
#include "daemon/mapping/mapping_error.hpp"
#include "daemon/mapping/resource_identity.hpp"

namespace bbsync::mapping {
namespace {

namespace json = boost::json;

constexpr std::string_view eob_type_system = "https://bluebutton.cms.gov/resources/codesystem/eob-type";
constexpr std::string_view claim_type_system = "http://terminology.hl7.org/CodeSystem/claim-type";
constexpr std::string_view institutional_subtype_system =
    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBInstitutionalClaimSubType";
constexpr std::string_view act_code_system = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr std::string_view null_flavor_system = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor";
constexpr std::string_view participation_type_system =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
constexpr std::string_view condition_category_system =
    "http://terminology.hl7.org/CodeSystem/condition-category";
constexpr std::string_view care_team_role_system =
    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole";
constexpr std::string_view hl7_care_team_role_system =
    "http://terminology.hl7.org/CodeSystem/claimcareteamrole";
constexpr std::string_view identifier_type_system =
    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType";
constexpr std::string_view v2_identifier_type_system = "http://terminology.hl7.org/CodeSystem/v2-0203";
constexpr std::string_view supporting_info_system =
    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType";
constexpr std::string_view npi_system = "http://hl7.org/fhir/sid/us-npi";
constexpr std::string_view ndc_system = "http://hl7.org/fhir/sid/ndc";
constexpr std::string_view ucum_system = "http://unitsofmeasure.org";

constexpr std::string_view encounter_system = "urn:bbsync:encounter";
constexpr std::string_view condition_system = "urn:bbsync:condition";
constexpr std::string_view procedure_system = "urn:bbsync:procedure";
constexpr std::string_view medication_request_system = "urn:bbsync:medication-request";

// At most this many Practitioners are referenced by full_url from one Encounter. Every Condition,
// Procedure and MedicationRequest travels with the Encounter and everything it references. The cap
// keeps that group at 22 entries (the resource, the Encounter and 20 Practitioners, which include
// any prescriber), so it fits a 30-entry bundle. Later Practitioners are still written, and the
// Encounter names them by NPI identifier.
constexpr std::size_t max_linked_practitioners = 20;

struct care_team_member
{
    std::optional<std::size_t> practitioner_index;  // into eob_mapping::resources
    bool linked = false;                            // referenced by full_url from the Encounter
    std::string npi;
    bool prescriber = false;
};

class eob_mapper
{
public:
    eob_mapper(const json::object& eob, const mapping_context& ctx, eob_mapping& out)
        : eob_(eob), ctx_(ctx), out_(out), patient_reference_("Patient/" + ctx.sf_patient_id)
    {}

    void map()
    {
        read_last_updated();
        out_.type = detect_type();
        map_care_team();
        map_encounter();
        map_diagnoses();
        map_procedures();
        if (out_.type == claim_type::pde || out_.type == claim_type::carin_pharmacy)
        {
            map_medication_requests();
        }
    }

private:
    void skip(std::string path, std::string reason)
    {
        out_.skipped.push_back({std::move(path), std::move(reason)});
    }

    std::size_t add_resource(
        std::string type,
        std::string_view system,
        std::string value,
        json::object resource,
        std::vector<std::size_t> depends_on
    )
    {
        json::object identifier;
        identifier["system"] = system;
        identifier["value"] = value;

        // resourceType and identifier lead the object so the serialized form reads naturally.
        json::object ordered;
        ordered["resourceType"] = type;
        json::array identifiers;
        identifiers.push_back(std::move(identifier));
        ordered["identifier"] = std::move(identifiers);
        for (auto& field : resource)
        {
            ordered[field.key()] = std::move(field.value());
        }

        mapped_resource mapped;
        mapped.full_url = make_full_url(type, system, value);
        mapped.resource_type = std::move(type);
        mapped.identifier_system = system;
        mapped.identifier_value = std::move(value);
        mapped.resource = std::move(ordered);
        mapped.depends_on = std::move(depends_on);
        out_.resources.push_back(std::move(mapped));
        return out_.resources.size() - 1;
    }

    json::object reference_to(std::size_t index) const
    {
        return json::object{{"reference", out_.resources[index].full_url}};
    }

    json::object subject() const { return json::object{{"reference", patient_reference_}}; }

    void read_last_updated()
    {
        const json::object* meta = find_object(eob_, "meta");
        if (meta == nullptr || !meta->contains("lastUpdated"))
        {
            return;
        }
        const std::optional<std::string_view> text = find_string(*meta, "lastUpdated");
        if (text && is_fhir_instant(*text))
        {
            out_.last_updated = *text;
            return;
        }
        skip("meta.lastUpdated", "lastUpdated is not a FHIR instant");
    }

    claim_type detect_type()
    {
        const json::object* type = find_object(eob_, "type");
        if (const auto code = find_code(type, eob_type_system))
        {
            static const std::map<std::string_view, claim_type> by_eob_type{
                {"CARRIER", claim_type::carrier},
                {"DME", claim_type::dme},
                {"HHA", claim_type::hha},
                {"HOSPICE", claim_type::hospice},
                {"INPATIENT", claim_type::inpatient},
                {"OUTPATIENT", claim_type::outpatient},
                {"PDE", claim_type::pde},
                {"SNF", claim_type::snf},
            };
            if (const auto found = by_eob_type.find(*code); found != by_eob_type.end())
            {
                return found->second;
            }
            skip("type", "eob-type code is not one of the eight CMS claim types");
            return claim_type::unknown;
        }

        const std::optional<std::string_view> code = find_code(type, claim_type_system);
        if (!code)
        {
            skip("type", "type has neither an eob-type nor a claim-type coding");
            return claim_type::unknown;
        }
        if (*code == "institutional")
        {
            const auto subtype = find_code(find_object(eob_, "subType"), institutional_subtype_system);
            if (subtype == "inpatient")
            {
                return claim_type::carin_inpatient;
            }
            if (subtype == "outpatient")
            {
                return claim_type::carin_outpatient;
            }
            skip("subType", "institutional claim without an inpatient or outpatient subType");
            return claim_type::unknown;
        }
        static const std::map<std::string_view, claim_type> by_claim_type{
            {"professional", claim_type::carin_professional},
            {"vision", claim_type::carin_vision},
            {"pharmacy", claim_type::carin_pharmacy},
            {"oral", claim_type::carin_oral},
        };
        if (const auto found = by_claim_type.find(*code); found != by_claim_type.end())
        {
            return found->second;
        }
        skip("type", "claim-type code is not a known claim type");
        return claim_type::unknown;
    }

    // Returns the contained resource with id `reference` minus its leading '#', the resource
    // the caller read for a literal reference, or nullptr.
    const json::object* find_contained(std::string_view reference) const
    {
        if (reference.size() >= 2 && reference.front() != '#' && ctx_.referenced_resources != nullptr)
        {
            const auto found = ctx_.referenced_resources->find(reference);
            return found != ctx_.referenced_resources->end() ? &found->second : nullptr;
        }
        if (reference.size() < 2 || reference.front() != '#')
        {
            return nullptr;
        }
        const json::array* contained = find_array(eob_, "contained");
        if (contained == nullptr)
        {
            return nullptr;
        }
        for (const json::value& entry : *contained)
        {
            const json::object* resource = entry.if_object();
            if (resource != nullptr && find_string(*resource, "id") == reference.substr(1))
            {
                return resource;
            }
        }
        return nullptr;
    }

    void map_care_team()
    {
        const json::array* care_team = find_array(eob_, "careTeam");
        if (care_team == nullptr)
        {
            return;
        }
        for (std::size_t i = 0; i < care_team->size(); ++i)
        {
            const std::string path = "careTeam[" + std::to_string(i) + "]";
            const json::object* member = (*care_team)[i].if_object();
            if (member == nullptr)
            {
                skip(path, "careTeam entry is not an object");
                continue;
            }
            map_care_team_member(*member, path);
        }
    }

    void map_care_team_member(const json::object& member, const std::string& path)
    {
        const json::object* role = find_object(member, "role");
        const std::optional<std::uint64_t> sequence = find_positive_integer(member, "sequence");
        json::object participant;
        if (auto type = participant_type(role))
        {
            participant["type"] = json::array{std::move(*type)};
        }

        const json::object* provider = find_object(member, "provider");
        if (provider == nullptr)
        {
            skip(path, "careTeam entry without a provider");
            return;
        }
        const std::optional<std::string_view> display = find_string(*provider, "display");

        const std::optional<std::string> npi = care_team_npi(*provider, path);
        if (!npi)
        {
            // No Practitioner can be written, but a named provider still shows on the Encounter.
            if (display)
            {
                participant["individual"] = json::object{{"display", *display}};
                participants_.push_back(std::move(participant));
            }
            return;
        }

        care_team_member entry;
        entry.npi = *npi;
        entry.prescriber = find_code(role, care_team_role_system) == "prescribing";
        entry.practitioner_index = practitioner_for(*npi, display, member);
        entry.linked = linked_practitioners_.contains(*entry.practitioner_index);
        if (entry.linked)
        {
            participant["individual"] = reference_to(*entry.practitioner_index);
        }
        else
        {
            participant["individual"] =
                json::object{{"identifier", json::object{{"system", npi_system}, {"value", *npi}}}};
        }
        participants_.push_back(std::move(participant));
        if (sequence)
        {
            care_team_by_sequence_[*sequence] = entry;
        }
        if (entry.prescriber && !first_prescriber_)
        {
            first_prescriber_ = entry;
        }
    }

    // Returns the provider's NPI when it is a valid one, otherwise records why not.
    std::optional<std::string> care_team_npi(const json::object& provider, const std::string& path)
    {
        const json::object* identifier = find_object(provider, "identifier");
        const std::optional<std::string_view> reference = find_string(provider, "reference");
        if (identifier == nullptr && reference)
        {
            if (const json::object* contained = find_contained(*reference))
            {
                return contained_practitioner_npi(*contained, path);
            }
            if (reference->starts_with("Organization/"))
            {
                skip(path, "careTeam provider is an Organization, not a Practitioner");
                return std::nullopt;
            }
            skip(path, "careTeam provider reference is not contained and carries no NPI");
            return std::nullopt;
        }
        if (identifier == nullptr)
        {
            skip(path, "careTeam provider without an identifier or reference");
            return std::nullopt;
        }

        const json::object* type = find_object(*identifier, "type");
        const bool is_npi = find_string(*identifier, "system") == npi_system ||
                            find_code(type, identifier_type_system) == "npi" ||
                            find_code(type, v2_identifier_type_system) == "NPI";
        if (!is_npi)
        {
            if (find_code(type, v2_identifier_type_system) == "UPIN")
            {
                skip(path, "careTeam provider has only a UPIN, no NPI");
            }
            else
            {
                skip(path, "careTeam provider identifier is not an NPI");
            }
            return std::nullopt;
        }
        return checked_npi(find_string(*identifier, "value"), path);
    }

    std::optional<std::string> contained_practitioner_npi(
        const json::object& contained, const std::string& path
    )
    {
        if (find_string(contained, "resourceType") != "Practitioner")
        {
            skip(path, "careTeam provider is a contained resource that is not a Practitioner");
            return std::nullopt;
        }
        const json::array* identifiers = find_array(contained, "identifier");
        if (identifiers != nullptr)
        {
            for (const json::value& entry : *identifiers)
            {
                const json::object* identifier = entry.if_object();
                if (identifier != nullptr && find_string(*identifier, "system") == npi_system)
                {
                    return checked_npi(find_string(*identifier, "value"), path);
                }
            }
        }
        skip(path, "contained Practitioner has no NPI identifier");
        return std::nullopt;
    }

    std::optional<std::string> checked_npi(std::optional<std::string_view> value, const std::string& path)
    {
        if (!value)
        {
            skip(path, "careTeam NPI identifier without a value");
            return std::nullopt;
        }
        if (value->size() != 10 || value->find_first_not_of("0123456789") != std::string_view::npos)
        {
            skip(path, "careTeam NPI is not 10 digits");
            return std::nullopt;
        }
        if (!is_valid_npi(*value))
        {
            skip(path, "careTeam NPI fails the NPI check digit (placeholder or made-up value)");
            return std::nullopt;
        }
        return std::string(*value);
    }

    std::size_t practitioner_for(
        const std::string& npi, std::optional<std::string_view> display, const json::object& member
    )
    {
        if (const auto found = practitioner_by_npi_.find(npi); found != practitioner_by_npi_.end())
        {
            return found->second;
        }

        json::object practitioner;
        if (display)
        {
            practitioner["name"] = json::array{json::object{{"text", *display}}};
        }
        if (auto qualification = copy_codeable_concept(find_object(member, "qualification")))
        {
            practitioner["qualification"] = json::array{json::object{{"code", std::move(*qualification)}}};
        }
        const std::size_t index = add_resource("Practitioner", npi_system, npi, std::move(practitioner), {});
        practitioner_by_npi_.emplace(npi, index);
        if (linked_practitioners_.size() < max_linked_practitioners)
        {
            linked_practitioners_.insert(index);
        }
        return index;
    }

    // Copies the codings that carry a system and a code, plus the text. Returns nullopt when no
    // coding qualifies.
    static std::optional<json::object> copy_codeable_concept(const json::object* source)
    {
        if (source == nullptr)
        {
            return std::nullopt;
        }
        json::array codings;
        if (const json::array* source_codings = find_array(*source, "coding"))
        {
            for (const json::value& entry : *source_codings)
            {
                const json::object* coding = entry.if_object();
                if (coding == nullptr)
                {
                    continue;
                }
                const auto system = find_string(*coding, "system");
                const auto code = find_string(*coding, "code");
                if (!system || !code)
                {
                    continue;
                }
                json::object copy{{"system", *system}, {"code", *code}};
                if (const auto display = find_string(*coding, "display"))
                {
                    copy["display"] = *display;
                }
                codings.push_back(std::move(copy));
            }
        }
        if (codings.empty())
        {
            return std::nullopt;
        }
        json::object result{{"coding", std::move(codings)}};
        if (const auto text = find_string(*source, "text"))
        {
            result["text"] = *text;
        }
        return result;
    }

    // Encounter.participant.type: the v3 ParticipationType code for the claim care-team role when
    // one matches, followed by the original role codings.
    static std::optional<json::object> participant_type(const json::object* role)
    {
        std::optional<json::object> type = copy_codeable_concept(role);
        if (!type)
        {
            return std::nullopt;
        }
        static const std::map<std::string_view, std::pair<std::string_view, std::string_view>> v3_codes{
            {"attending", {"ATND", "attender"}},
            {"referring", {"REF", "referrer"}},
            {"primary", {"PPRF", "primary performer"}},
            {"operating", {"PPRF", "primary performer"}},
            {"otheroperating", {"SPRF", "secondary performer"}},
            {"performing", {"PRF", "performer"}},
            {"rendering", {"PRF", "performer"}},
        };
        std::optional<std::string_view> code = find_code(role, care_team_role_system);
        if (!code)
        {
            code = find_code(role, hl7_care_team_role_system);
        }
        if (code)
        {
            if (const auto found = v3_codes.find(*code); found != v3_codes.end())
            {
                json::array& codings = (*type)["coding"].as_array();
                codings.insert(
                    codings.begin(),
                    json::object{
                        {"system", participation_type_system},
                        {"code", found->second.first},
                        {"display", found->second.second}}
                );
            }
        }
        return type;
    }

    json::object encounter_class()
    {
        switch (out_.type)
        {
        case claim_type::inpatient:
        case claim_type::snf:
        case claim_type::hospice:
        case claim_type::carin_inpatient:
            return {{"system", act_code_system}, {"code", "IMP"}, {"display", "inpatient encounter"}};
        case claim_type::hha:
            return {{"system", act_code_system}, {"code", "HH"}, {"display", "home health"}};
        case claim_type::outpatient:
        case claim_type::carrier:
        case claim_type::dme:
        case claim_type::pde:
        case claim_type::carin_outpatient:
        case claim_type::carin_professional:
        case claim_type::carin_vision:
        case claim_type::carin_pharmacy:
        case claim_type::carin_oral:
            return {{"system", act_code_system}, {"code", "AMB"}, {"display", "ambulatory"}};
        case claim_type::unknown: break;
        }
        // Encounter.class is required, so an unrecognised claim type gets the null flavor.
        return {{"system", null_flavor_system}, {"code", "UNK"}, {"display", "unknown"}};
    }

    std::optional<json::object> encounter_period()
    {
        const json::object* billable = find_object(eob_, "billablePeriod");
        if (billable == nullptr)
        {
            skip("billablePeriod", "EOB without a billablePeriod");
            return std::nullopt;
        }
        json::object period;
        for (const std::string_view bound : {"start", "end"})
        {
            if (!billable->contains(bound))
            {
                continue;
            }
            const auto text = find_string(*billable, bound);
            if (text && is_fhir_date_time(*text))
            {
                period[bound] = *text;
            }
            else
            {
                skip("billablePeriod." + std::string(bound), "billablePeriod bound is not a FHIR dateTime");
            }
        }
        if (period.empty())
        {
            return std::nullopt;
        }
        return period;
    }

    // Encounter.serviceProvider as a logical reference: the billing organization is not written
    // as a resource, so it is named by NPI identifier and display.
    std::optional<json::object> service_provider()
    {
        const json::object* provider = find_object(eob_, "provider");
        if (provider == nullptr)
        {
            skip("provider", "EOB without a provider");
            return std::nullopt;
        }

        std::optional<std::string_view> display = find_string(*provider, "display");
        const json::object* identifier = find_object(*provider, "identifier");
        if (const auto reference = find_string(*provider, "reference"))
        {
            const json::object* contained = find_contained(*reference);
            if (contained != nullptr && find_string(*contained, "resourceType") == "Organization")
            {
                display = find_string(*contained, "name");
                identifier = nullptr;
                if (const json::array* identifiers = find_array(*contained, "identifier"))
                {
                    for (const json::value& entry : *identifiers)
                    {
                        const json::object* candidate = entry.if_object();
                        if (candidate != nullptr && find_string(*candidate, "system") == npi_system)
                        {
                            identifier = candidate;
                        }
                    }
                }
            }
            else if (!reference->starts_with("Organization/"))
            {
                skip("provider", "provider is not an Organization");
                return std::nullopt;
            }
        }
        else if (find_string(*provider, "type") == "Practitioner")
        {
            skip("provider", "provider is not an Organization");
            return std::nullopt;
        }

        json::object result;
        const auto npi = identifier == nullptr ? std::nullopt : find_string(*identifier, "value");
        if (npi && is_valid_npi(*npi))
        {
            result["identifier"] = json::object{{"system", npi_system}, {"value", *npi}};
        }
        if (display)
        {
            result["display"] = *display;
        }
        if (result.empty())
        {
            skip("provider", "provider has neither a valid NPI nor a name");
            return std::nullopt;
        }
        if (npi && !result.contains("identifier"))
        {
            skip("provider.identifier", "provider NPI is invalid, so only the name is kept");
        }
        return result;
    }

    std::string payor_name() const
    {
        if (const json::object* insurer = find_object(eob_, "insurer"))
        {
            if (const auto display = find_string(*insurer, "display"))
            {
                return std::string(*display);
            }
            if (const json::object* identifier = find_object(*insurer, "identifier"))
            {
                if (const auto value = find_string(*identifier, "value"))
                {
                    return std::string(*value);
                }
            }
        }
        return ctx_.default_payor;
    }

    void map_encounter()
    {
        json::object encounter;
        encounter["status"] = "finished";
        encounter["class"] = encounter_class();

        json::array types;
        if (auto type = copy_codeable_concept(find_object(eob_, "type")))
        {
            types.push_back(std::move(*type));
        }
        if (auto subtype = copy_codeable_concept(find_object(eob_, "subType")))
        {
            types.push_back(std::move(*subtype));
        }
        if (!types.empty())
        {
            encounter["type"] = std::move(types);
        }
        encounter["subject"] = subject();
        if (auto period = encounter_period())
        {
            encounter["period"] = std::move(*period);
        }
        if (!participants_.empty())
        {
            encounter["participant"] = std::move(participants_);
        }
        if (auto provider = service_provider())
        {
            encounter["serviceProvider"] = std::move(*provider);
        }

        std::vector<std::size_t> depends_on;
        depends_on.assign(linked_practitioners_.begin(), linked_practitioners_.end());
        encounter_index_ =
            add_resource("Encounter", encounter_system, out_.eob_id, std::move(encounter), depends_on);

        // The payer that assigned the EOB id is recorded on the identifier.
        json::object& identifier =
            out_.resources[encounter_index_].resource["identifier"].as_array()[0].as_object();
        identifier["assigner"] = json::object{{"display", payor_name()}};
    }

    // Returns true when `sequence` was not seen before for this element kind, otherwise records a skip.
    bool first_use(
        std::map<std::uint64_t, bool>& seen,
        std::uint64_t sequence,
        const std::string& path,
        std::string_view kind
    )
    {
        if (!seen.emplace(sequence, true).second)
        {
            skip(path, std::string(kind) + " sequence repeats an earlier one");
            return false;
        }
        return true;
    }

    void map_diagnoses()
    {
        const json::array* diagnoses = find_array(eob_, "diagnosis");
        if (diagnoses == nullptr)
        {
            return;
        }
        std::map<std::uint64_t, bool> seen;
        for (std::size_t i = 0; i < diagnoses->size(); ++i)
        {
            const std::string path = "diagnosis[" + std::to_string(i) + "]";
            const json::object* diagnosis = (*diagnoses)[i].if_object();
            if (diagnosis == nullptr)
            {
                skip(path, "diagnosis is not an object");
                continue;
            }
            const auto sequence = find_positive_integer(*diagnosis, "sequence");
            if (!sequence)
            {
                skip(path, "diagnosis without a positive sequence");
                continue;
            }
            auto code = copy_codeable_concept(find_object(*diagnosis, "diagnosisCodeableConcept"));
            if (!code)
            {
                skip(
                    path,
                    diagnosis->contains("diagnosisReference") ? "diagnosis given as a reference, not a code"
                                                              : "diagnosis without a code"
                );
                continue;
            }
            if (!first_use(seen, *sequence, path, "diagnosis"))
            {
                continue;
            }

            json::array categories;
            categories.push_back(json::object{
                {"coding",
                 json::array{json::object{
                     {"system", condition_category_system},
                     {"code", "encounter-diagnosis"},
                     {"display", "Encounter Diagnosis"}}}}});
            // The claim's diagnosis role (principal, admitting, secondary, ...) as a second category.
            if (const json::array* roles = find_array(*diagnosis, "type"))
            {
                for (const json::value& role : *roles)
                {
                    if (auto copy = copy_codeable_concept(role.if_object()))
                    {
                        categories.push_back(std::move(*copy));
                    }
                }
            }

            json::object condition;
            condition["category"] = std::move(categories);
            condition["code"] = std::move(*code);
            condition["subject"] = subject();
            condition["encounter"] = reference_to(encounter_index_);
            add_resource(
                "Condition",
                condition_system,
                out_.eob_id + "#diagnosis-" + std::to_string(*sequence),
                std::move(condition),
                {encounter_index_}
            );
        }
    }

    void map_procedures()
    {
        const json::array* procedures = find_array(eob_, "procedure");
        if (procedures == nullptr)
        {
            return;
        }
        std::map<std::uint64_t, bool> seen;
        for (std::size_t i = 0; i < procedures->size(); ++i)
        {
            const std::string path = "procedure[" + std::to_string(i) + "]";
            const json::object* procedure = (*procedures)[i].if_object();
            if (procedure == nullptr)
            {
                skip(path, "procedure is not an object");
                continue;
            }
            const auto sequence = find_positive_integer(*procedure, "sequence");
            if (!sequence)
            {
                skip(path, "procedure without a positive sequence");
                continue;
            }
            auto code = copy_codeable_concept(find_object(*procedure, "procedureCodeableConcept"));
            if (!code)
            {
                skip(
                    path,
                    procedure->contains("procedureReference") ? "procedure given as a reference, not a code"
                                                              : "procedure without a code"
                );
                continue;
            }
            if (!first_use(seen, *sequence, path, "procedure"))
            {
                continue;
            }

            json::object mapped;
            mapped["status"] = "completed";
            mapped["code"] = std::move(*code);
            mapped["subject"] = subject();
            mapped["encounter"] = reference_to(encounter_index_);
            if (procedure->contains("date"))
            {
                const auto date = find_string(*procedure, "date");
                if (date && is_fhir_date_time(*date))
                {
                    mapped["performedDateTime"] = *date;
                }
                else
                {
                    skip(path + ".date", "procedure date is not a FHIR dateTime");
                }
            }
            add_resource(
                "Procedure",
                procedure_system,
                out_.eob_id + "#procedure-" + std::to_string(*sequence),
                std::move(mapped),
                {encounter_index_}
            );
        }
    }

    // Returns the value of a Quantity when it is a JSON number, unchanged, so that a number whose
    // text parse_fhir_json kept is written back byte for byte. Returns nullopt for non-numbers.
    static std::optional<json::value> decimal_value(const json::object* quantity)
    {
        if (quantity == nullptr)
        {
            return std::nullopt;
        }
        const json::value* value = quantity->if_contains("value");
        if (value == nullptr || !is_json_number(*value))
        {
            return std::nullopt;
        }
        return *value;
    }

    std::optional<json::value> days_supply() const
    {
        const json::array* infos = find_array(eob_, "supportingInfo");
        if (infos == nullptr)
        {
            return std::nullopt;
        }
        for (const json::value& entry : *infos)
        {
            const json::object* info = entry.if_object();
            if (info != nullptr &&
                find_code(find_object(*info, "category"), supporting_info_system) == "dayssupply")
            {
                return decimal_value(find_object(*info, "valueQuantity"));
            }
        }
        return std::nullopt;
    }

    std::optional<care_team_member> prescriber_for(const json::object& item) const
    {
        if (const json::array* sequences = find_array(item, "careTeamSequence"))
        {
            for (const json::value& entry : *sequences)
            {
                const auto* sequence = entry.if_int64();
                if (sequence == nullptr || *sequence <= 0)
                {
                    continue;
                }
                const auto found = care_team_by_sequence_.find(static_cast<std::uint64_t>(*sequence));
                if (found != care_team_by_sequence_.end() && found->second.prescriber)
                {
                    return found->second;
                }
            }
        }
        return first_prescriber_;
    }

    void map_medication_requests()
    {
        const json::array* items = find_array(eob_, "item");
        if (items == nullptr)
        {
            return;
        }
        const std::optional<json::value> supply_days = days_supply();
        std::map<std::uint64_t, bool> seen;
        for (std::size_t i = 0; i < items->size(); ++i)
        {
            const std::string path = "item[" + std::to_string(i) + "]";
            const json::object* item = (*items)[i].if_object();
            if (item == nullptr)
            {
                skip(path, "item is not an object");
                continue;
            }
            const auto sequence = find_positive_integer(*item, "sequence");
            if (!sequence)
            {
                skip(path, "item without a positive sequence");
                continue;
            }
            const json::object* product = find_object(*item, "productOrService");
            if (find_code(product, ndc_system) == std::nullopt)
            {
                skip(path, "pharmacy item without an NDC code");
                continue;
            }
            if (!first_use(seen, *sequence, path, "item"))
            {
                continue;
            }

            json::object request;
            request["status"] = "completed";
            request["intent"] = "order";
            request["medicationCodeableConcept"] = *copy_codeable_concept(product);
            request["subject"] = subject();
            request["encounter"] = reference_to(encounter_index_);
            std::vector<std::size_t> depends_on{encounter_index_};

            std::optional<std::string_view> served = find_string(*item, "servicedDate");
            if (!served)
            {
                if (const json::object* period = find_object(*item, "servicedPeriod"))
                {
                    served = find_string(*period, "start");
                }
            }
            if (served && is_fhir_date_time(*served))
            {
                request["authoredOn"] = *served;
            }
            else
            {
                skip(path + ".servicedDate", "item without a FHIR service date");
            }

            if (const auto prescriber = prescriber_for(*item))
            {
                if (prescriber->linked)
                {
                    request["requester"] = reference_to(*prescriber->practitioner_index);
                    depends_on.push_back(*prescriber->practitioner_index);
                }
                else
                {
                    request["requester"] = json::object{
                        {"identifier", json::object{{"system", npi_system}, {"value", prescriber->npi}}}};
                }
            }

            json::object dispense;
            if (auto quantity = decimal_value(find_object(*item, "quantity")))
            {
                dispense["quantity"] = json::object{{"value", std::move(*quantity)}};
            }
            if (supply_days)
            {
                dispense["expectedSupplyDuration"] = json::object{
                    {"value", *supply_days}, {"unit", "days"}, {"system", ucum_system}, {"code", "d"}};
            }
            if (!dispense.empty())
            {
                request["dispenseRequest"] = std::move(dispense);
            }

            add_resource(
                "MedicationRequest",
                medication_request_system,
                out_.eob_id + "#item-" + std::to_string(*sequence),
                std::move(request),
                std::move(depends_on)
            );
        }
    }

    const json::object& eob_;
    const mapping_context& ctx_;
    eob_mapping& out_;
    std::string patient_reference_;
    std::size_t encounter_index_ = 0;
    json::array participants_;
    std::map<std::string, std::size_t> practitioner_by_npi_;
    std::set<std::size_t> linked_practitioners_;
    std::map<std::uint64_t, care_team_member> care_team_by_sequence_;
    std::optional<care_team_member> first_prescriber_;
};

}  // namespace

std::string_view to_string(claim_type type) noexcept
{
    switch (type)
    {
    case claim_type::carrier: return "carrier";
    case claim_type::dme: return "dme";
    case claim_type::hha: return "hha";
    case claim_type::hospice: return "hospice";
    case claim_type::inpatient: return "inpatient";
    case claim_type::outpatient: return "outpatient";
    case claim_type::pde: return "pde";
    case claim_type::snf: return "snf";
    case claim_type::carin_inpatient: return "carin_inpatient";
    case claim_type::carin_outpatient: return "carin_outpatient";
    case claim_type::carin_professional: return "carin_professional";
    case claim_type::carin_vision: return "carin_vision";
    case claim_type::carin_pharmacy: return "carin_pharmacy";
    case claim_type::carin_oral: return "carin_oral";
    case claim_type::unknown: break;
    }
    return "unknown";
}

boost::system::result<eob_mapping> map_eob(const boost::json::object& eob, const mapping_context& ctx)
{
    if (find_string(eob, "resourceType") != "ExplanationOfBenefit")
    {
        return mapping_errc::wrong_resource_type;
    }
    const std::optional<std::string_view> id = find_string(eob, "id");
    if (!id)
    {
        return mapping_errc::missing_id;
    }
    if (!is_fhir_id(*id))
    {
        return mapping_errc::invalid_id;
    }
    if (ctx.sf_patient_id.empty())
    {
        return mapping_errc::missing_patient_id;
    }

    eob_mapping mapping;
    mapping.eob_id = *id;
    eob_mapper(eob, ctx, mapping).map();
    return mapping;
}

boost::system::result<eob_mapping> map_eob(const boost::json::value& eob, const mapping_context& ctx)
{
    const boost::json::object* object = eob.if_object();
    if (object == nullptr)
    {
        return mapping_errc::not_an_object;
    }
    return map_eob(*object, ctx);
}

}  // namespace bbsync::mapping

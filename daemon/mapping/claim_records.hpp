#pragma once

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/mapping/eob_mapper.hpp"

namespace bbsync::mapping {

// Data Cloud object names of the BlueButtonClaim Ingestion API source. docs/datacloud/
// BlueButtonClaim.yaml declares one schema per name, with the fields that the records carry.
inline constexpr std::string_view claim_header_object = "ClaimHeader";
inline constexpr std::string_view claim_line_item_object = "ClaimLineItem";
inline constexpr std::string_view claim_diagnosis_object = "ClaimDiagnosis";
inline constexpr std::string_view claim_procedure_object = "ClaimProcedure";
inline constexpr std::string_view claim_care_team_object = "ClaimCareTeam";
inline constexpr std::string_view claim_coverage_object = "ClaimCoverage";

// Flat Data Cloud records, grouped by object name. Every record contains every field of its object's
// schema, in schema order, with null where the source has no value. `id` is never null.
struct claim_records
{
    std::map<std::string, std::vector<boost::json::object>, std::less<>> by_object;
};

// Maps one EOB to a ClaimHeader record and one ClaimLineItem, ClaimDiagnosis, ClaimProcedure or
// ClaimCareTeam record per item, diagnosis, procedure or care-team entry with a positive
// `sequence` not already used in the EOB. Record ids are the EOB id for the header and
// "<eob id>-item-<sequence>", "-diagnosis-", "-procedure-", "-careteam-" for the others, so
// re-mapping gives the same ids. No patient name, birth date, address, MBI or payer member id is
// copied; the patient is named only by mapping_context::sf_patient_id. Numbers are copied
// unchanged, including those whose text parse_fhir_json kept. Returns the same mapping_errc
// values as map_eob for an EOB without a usable id or a context without a patient id. Throws only
// std::bad_alloc.
boost::system::result<claim_records> map_claim_records(
    const boost::json::object& eob, const mapping_context& ctx
);

// Maps one Coverage to a ClaimCoverage record whose id is the Coverage id. subscriberId and
// identifier are not copied, because Blue Button puts the MBI there. Returns
// mapping_errc::wrong_resource_type, missing_id, invalid_id or missing_patient_id like map_eob.
// Throws only std::bad_alloc.
boost::system::result<claim_records> map_coverage_records(
    const boost::json::object& coverage, const mapping_context& ctx
);

// Returns the field names of a Data Cloud object in schema order, or an empty span for an unknown
// name. Never throws.
std::span<const std::string_view> claim_record_fields(std::string_view object_name) noexcept;

}  // namespace bbsync::mapping

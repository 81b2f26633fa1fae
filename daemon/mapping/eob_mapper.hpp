#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bbsync::mapping {

// Claim type of an EOB: the eight Blue Button (CMS) claim types, then the CARIN C4BB profiles.
enum class claim_type
{
    carrier,
    dme,
    hha,
    hospice,
    inpatient,
    outpatient,
    pde,
    snf,
    carin_inpatient,
    carin_outpatient,
    carin_professional,
    carin_vision,
    carin_pharmacy,
    carin_oral,
    unknown
};

// Returns the enumerator name ("carrier", "carin_oral", ...). Never throws.
std::string_view to_string(claim_type type) noexcept;

struct mapping_context
{
    std::string sf_patient_id;  // Health Cloud patient id; subjects are "Patient/<id>"
    std::string default_payor = "CMS";
    // Data Cloud records only: the Record Modified value (a FHIR instant, such as the sync job's
    // start time) used when the source resource has no valid meta.lastUpdated. Empty means null.
    std::string fallback_last_updated;
    // Resources that the EOB names by literal reference ("Practitioner/123", "Organization/9"),
    // read from the payer by the caller and keyed by that reference. The mapper reads them like
    // contained resources. With a null pointer or a missing key the mapper skips the reference.
    const std::map<std::string, boost::json::object, std::less<>>* referenced_resources = nullptr;
};

struct mapped_resource
{
    std::string resource_type;  // "Encounter", "Condition", "Procedure", "MedicationRequest", "Practitioner"
    std::string identifier_system;
    std::string identifier_value;
    std::string full_url;          // "urn:uuid:<uuid>", derived deterministically from type+system+value
    boost::json::object resource;  // carries identifier[0] = {system, value}; references to other
                                   // resources of this EOB use their full_url
    std::vector<std::size_t> depends_on;  // indices into eob_mapping::resources this one references
};

struct skipped_element
{
    std::string path;    // e.g. "diagnosis[2]"
    std::string reason;  // short, no claim content, e.g. "diagnosis without a code"
};

struct eob_mapping
{
    std::string eob_id;
    std::string last_updated;  // EOB meta.lastUpdated text as received ("" if absent or not a FHIR instant)
    claim_type type = claim_type::unknown;
    std::vector<mapped_resource> resources;  // dependencies always come before their dependents
    std::vector<skipped_element> skipped;
};

// Maps one EOB. Returns an error (mapping_errc in daemon/mapping/mapping_error.hpp) only when the
// EOB as a whole cannot be mapped: resourceType not ExplanationOfBenefit, no id, or an id that is
// not a FHIR id. A missing or unknown optional element never fails: it is skipped and recorded in
// `skipped`. Throws only std::bad_alloc.
boost::system::result<eob_mapping> map_eob(const boost::json::object& eob, const mapping_context& ctx);

// Maps one EOB given as any JSON value. Returns mapping_errc::not_an_object when the value is not
// an object, otherwise behaves as the object overload. Throws only std::bad_alloc.
boost::system::result<eob_mapping> map_eob(const boost::json::value& eob, const mapping_context& ctx);

struct bundle_entry_ref
{
    std::size_t eob_index;
    std::size_t resource_index;
};

struct batch_bundle
{
    boost::json::object bundle;             // {"resourceType":"Bundle","type":"batch","entry":[...]}
    std::vector<bundle_entry_ref> entries;  // entries[i] describes bundle.entry[i]
};

// Packs the resources of several mapped EOBs into batch bundles of at most max_entries (<= 30)
// entries. A resource and everything it depends_on (transitively) travel in the same bundle: when
// one EOB has more resources than fit, its roots (e.g. the Encounter) are repeated in each bundle
// that contains a dependent. Resources with the same full_url (a Practitioner shared by two EOBs, an
// EOB given twice) appear once per bundle; entries[] then names the first one. Every entry is
// `{"fullUrl": full_url, "resource": ..., "request": {"method": "POST", "url": <type>,
// "ifNoneExist": "identifier=<system>|<value>"}}` with system and value percent-encoded, so that a
// replay or a repeated root creates nothing new. Throws std::invalid_argument if max_entries is 0
// or > 30, or if one resource together with its dependencies needs more than max_entries entries
// (map_eob keeps that at most 22, so 30 always fits).
std::vector<batch_bundle> build_batches(std::span<const eob_mapping> eobs, std::size_t max_entries);

// Packs like build_batches but leaves each `bundle` empty: only `entries` is set. Throws like
// build_batches.
std::vector<batch_bundle> plan_batches(std::span<const eob_mapping> eobs, std::size_t max_entries);

// Returns the serialize_fhir_json text of the bundle that build_batches makes for `entries`,
// written straight from the mapped resources instead of from a copy of them in a bundle.
std::string serialize_batch(std::span<const eob_mapping> eobs, std::span<const bundle_entry_ref> entries);

}  // namespace bbsync::mapping

#ifndef BBSYNC_SANDBOX_FHIR_RENDERER_HPP
#define BBSYNC_SANDBOX_FHIR_RENDERER_HPP

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "sandbox/claim_type.hpp"
#include "sandbox/payer_data.hpp"

namespace bbsync::sandbox {

// One kind of CARIN Blue Button EOB: its C4BB example and the HL7 claim-type code it is
// served with. The vision kind is the professional example with the claim type `vision`,
// which C4BB allows on the Professional-NonClinician profile.
struct carin_kind
{
    std::string_view name;
    std::string_view template_file;
    std::string_view claim_type;
    // Coverage the EOB references: part-<coverage_part>-<payer id>.
    std::string_view coverage_part;
};

inline constexpr std::size_t carin_kind_count = 10;

inline constexpr std::array<carin_kind, carin_kind_count> carin_kinds{{
    {"inpatient1", "ExplanationOfBenefit-EOBInpatient1.json", "institutional", "a"},
    {"inpatient2", "ExplanationOfBenefit-EOBInpatient2.json", "institutional", "a"},
    {"outpatient1", "ExplanationOfBenefit-EOBOutpatient1.json", "institutional", "b"},
    {"outpatient2", "ExplanationOfBenefit-EOBOutpatient2.json", "institutional", "b"},
    {"professional1", "ExplanationOfBenefit-EOBProfessional1.json", "professional", "b"},
    {"professional2", "ExplanationOfBenefit-EOBProfessional2.json", "professional", "b"},
    {"vision", "ExplanationOfBenefit-EOBProfessional2.json", "vision", "b"},
    {"pharmacy", "ExplanationOfBenefit-EOBPharmacy1.json", "pharmacy", "d"},
    {"oral1", "ExplanationOfBenefit-EOBOral1.json", "oral", "c"},
    {"oral2", "ExplanationOfBenefit-EOBOral2.json", "oral", "c"},
}};

// Builds Patient, Coverage and ExplanationOfBenefit resources from the sample documents
// compiled into the binary, varied per patient and per EOB record.
class fhir_renderer
{
public:
    // Parses the embedded templates. Throws std::runtime_error when one is missing or is not
    // valid JSON (a build problem).
    explicit fhir_renderer(std::uint64_t seed);

    // Returns the Patient resource of patient `index` (0-based) with its id, identifiers,
    // name and birth date varied. Throws only std::bad_alloc.
    boost::json::value render_patient(std::size_t index, const patient_record& patient) const;

    // Returns the four Coverage resources (part-a to part-d) of a patient. Throws only
    // std::bad_alloc.
    boost::json::array render_coverages(std::size_t index, const patient_record& patient) const;

    // Returns the ExplanationOfBenefit of one record: id, claim identifiers, patient and
    // coverage references, dates, money amounts and meta.lastUpdated replaced. Throws only
    // std::bad_alloc.
    boost::json::value render_eob(const patient_record& patient, const eob_record& eob) const;

    // Returns the index in carin_kinds of the example an EOB record is rendered from in CARIN
    // mode, derived from its claim number.
    static std::size_t carin_kind_of(const eob_record& eob);

    // Returns the CARIN mode resource id "c4bb-<kind>-<claim number>".
    static std::string carin_eob_id(const eob_record& eob);

    // Returns the CARIN mode ExplanationOfBenefit of one record: a C4BB example with id,
    // identifier, Patient and Coverage references, dates, money amounts and meta.lastUpdated
    // replaced. Its Practitioner and Organization references stay literal and resolve
    // through carin_reference(). Throws only std::bad_alloc.
    boost::json::value render_carin_eob(const patient_record& patient, const eob_record& eob) const;

    // Returns the Practitioner or Organization named by "Practitioner/{id}" or
    // "Organization/{id}", or nullptr when there is none.
    const boost::json::value* carin_reference(std::string_view reference) const;

private:
    std::uint64_t seed_;
    boost::json::value patient_template_;
    boost::json::value coverage_bundle_template_;
    std::array<boost::json::value, claim_type_count> eob_templates_;
    std::array<std::int64_t, claim_type_count> template_end_days_{};
    std::array<boost::json::value, carin_kind_count> carin_templates_;
    std::array<std::int64_t, carin_kind_count> carin_end_days_{};
    std::map<std::string, boost::json::value, std::less<>> carin_references_;
};

}  // namespace bbsync::sandbox

#endif

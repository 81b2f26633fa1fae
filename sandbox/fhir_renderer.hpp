#ifndef BBSYNC_SANDBOX_FHIR_RENDERER_HPP
#define BBSYNC_SANDBOX_FHIR_RENDERER_HPP

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>

#include "sandbox/claim_type.hpp"
#include "sandbox/payer_data.hpp"

namespace bbsync::sandbox {

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

private:
    std::uint64_t seed_;
    boost::json::value patient_template_;
    boost::json::value coverage_bundle_template_;
    std::array<boost::json::value, claim_type_count> eob_templates_;
    std::array<std::int64_t, claim_type_count> template_end_days_{};
};

}  // namespace bbsync::sandbox

#endif

#ifndef BBSYNC_SANDBOX_PAYER_DATA_HPP
#define BBSYNC_SANDBOX_PAYER_DATA_HPP

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/claim_type.hpp"

namespace bbsync::sandbox {

// One synthetic patient: its Blue Button id and its Salesforce (Health Cloud) id.
struct patient_record
{
    std::string payer_id;
    std::string sf_id;
};

// The few numbers an ExplanationOfBenefit is rendered from. The full JSON is only built
// when a page is requested, so that 100,000 EOBs cost a few megabytes.
struct eob_record
{
    // Digits of the claim id; the EOB id is "<type>--<digits>" and the claim id "-<digits>".
    std::uint64_t claim_number = 0;
    std::int64_t last_updated_ms = 0;
    std::uint32_t index = 0;
    // Day (since 1970-01-01) on which the billable period ends; every date of the template
    // moves by the same number of days.
    std::int32_t service_end_day = 0;
    // Factor applied to every money amount of the template, in thousandths.
    std::uint16_t money_permille = 1000;
    claim_type type = claim_type::carrier;
};

// The payer's synthetic population: patients and their EOB records, all derived from the
// seed. Patient i (1-based) has payer id "-1999" followed by i on 10 digits and Salesforce
// id "001SB" followed by i on 13 digits.
class payer_data
{
public:
    // Generates `patients` patients with `eobs_per_patient` EOBs each. meta.lastUpdated of
    // the initial EOBs is spread over 2024-01-01 to 2025-12-31 (capped one day before
    // `now_ms`), ascending with the EOB index. Throws std::invalid_argument for counts
    // outside the ranges the command line allows.
    payer_data(std::uint64_t seed, int patients, int eobs_per_patient, std::int64_t now_ms);

    const std::vector<patient_record>& patients() const { return patients_; }

    // Returns the 0-based index of the patient with this payer id, or nullopt.
    std::optional<std::size_t> find_by_payer_id(std::string_view payer_id) const;

    // Returns the 0-based index of the patient with this Salesforce id, or nullopt.
    std::optional<std::size_t> find_by_sf_id(std::string_view sf_id) const;

    // Returns the EOBs of one patient sorted by claim id, then claim type.
    std::span<const eob_record> eobs(std::size_t patient) const { return eobs_[patient]; }

    // Adds `per_patient` EOBs to every patient, all with meta.lastUpdated = max(now_ms,
    // latest existing + 1 ms), and returns how many were added. Throws std::length_error when
    // a patient would pass 2^20 EOBs.
    std::uint64_t add_eobs(int per_patient, std::int64_t now_ms);

    std::uint64_t eobs_total() const { return eobs_total_; }

    const std::array<std::uint64_t, claim_type_count>& eobs_by_type() const { return eobs_by_type_; }

    // Returns the resource id "<type>--<digits>".
    static std::string eob_id(const eob_record& eob);

    // Returns the claim id "-<digits>".
    static std::string claim_id(const eob_record& eob);

private:
    eob_record make_eob(std::size_t patient, std::uint32_t index, std::int64_t last_updated_ms) const;
    void insert_sorted(std::size_t patient, const eob_record& eob);

    std::uint64_t seed_;
    std::vector<patient_record> patients_;
    std::vector<std::vector<eob_record>> eobs_;
    std::vector<std::uint32_t> next_index_;
    std::int64_t latest_last_updated_ms_ = 0;
    std::uint64_t eobs_total_ = 0;
    std::array<std::uint64_t, claim_type_count> eobs_by_type_{};
};

}  // namespace bbsync::sandbox

#endif

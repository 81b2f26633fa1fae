#include "sandbox/payer_data.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "sandbox/deterministic_random.hpp"
#include "sandbox/fhir_time.hpp"

namespace bbsync::sandbox {
namespace {

constexpr std::uint32_t max_eobs_per_patient = 1U << 20;
constexpr std::uint64_t claim_number_space = 1ULL << 39;
constexpr std::uint64_t claim_number_base = 100000000000ULL;
constexpr std::int64_t ms_per_day = 86400000;

std::string zero_padded(std::size_t number, int width)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%0*zu", width, number);
    return buffer;
}

std::optional<std::size_t> parse_padded(std::string_view text, std::string_view prefix, std::size_t digits)
{
    if (text.size() != prefix.size() + digits || !text.starts_with(prefix))
        return std::nullopt;
    std::size_t number = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data() + prefix.size(), end, number);
    if (ec != std::errc{} || ptr != end)
        return std::nullopt;
    return number;
}

bool eob_order(const eob_record& a, const eob_record& b)
{
    if (a.claim_number != b.claim_number)
        return a.claim_number < b.claim_number;
    return a.type < b.type;
}

}  // namespace

payer_data::payer_data(std::uint64_t seed, int patients, int eobs_per_patient, std::int64_t now_ms)
    : seed_(seed)
{
    if (patients < 1 || patients > 100000 || eobs_per_patient < 0 || eobs_per_patient > 10000)
        throw std::invalid_argument("payer_data: patient or EOB count out of range");

    // Patients.
    patients_.reserve(static_cast<std::size_t>(patients));
    for (int i = 1; i <= patients; ++i)
    {
        const auto number = static_cast<std::size_t>(i);
        patients_.push_back({"-1999" + zero_padded(number, 10), "001SB" + zero_padded(number, 13)});
    }
    eobs_.resize(patients_.size());
    next_index_.assign(patients_.size(), static_cast<std::uint32_t>(eobs_per_patient));

    // Initial EOBs: lastUpdated spread evenly over the window, with a per-patient jitter that
    // stays inside each step so that the order by index holds.
    const std::int64_t window_start = days_from_civil(2024, 1, 1) * ms_per_day;
    const std::int64_t window_end = std::min(days_from_civil(2025, 12, 31) * ms_per_day, now_ms - ms_per_day);
    const std::int64_t window = std::max<std::int64_t>(window_end - window_start, 1000);
    const std::int64_t step = std::max<std::int64_t>(window / std::max(eobs_per_patient, 1), 2);
    for (std::size_t p = 0; p < patients_.size(); ++p)
    {
        auto& list = eobs_[p];
        list.reserve(static_cast<std::size_t>(eobs_per_patient));
        for (int j = 0; j < eobs_per_patient; ++j)
        {
            const auto jitter = static_cast<std::int64_t>(
                mix_hash(seed_, p, static_cast<std::uint64_t>(j), 1) % static_cast<std::uint64_t>(step / 2)
            );
            const std::int64_t stamp = window_start + j * step + jitter;
            list.push_back(make_eob(p, static_cast<std::uint32_t>(j), stamp));
            latest_last_updated_ms_ = std::max(latest_last_updated_ms_, stamp);
            ++eobs_by_type_[static_cast<std::size_t>(list.back().type)];
        }
        std::sort(list.begin(), list.end(), eob_order);
        eobs_total_ += list.size();
    }
}

std::optional<std::size_t> payer_data::find_by_payer_id(std::string_view payer_id) const
{
    const auto number = parse_padded(payer_id, "-1999", 10);
    if (!number || *number < 1 || *number > patients_.size())
        return std::nullopt;
    return *number - 1;
}

std::optional<std::size_t> payer_data::find_by_sf_id(std::string_view sf_id) const
{
    const auto number = parse_padded(sf_id, "001SB", 13);
    if (!number || *number < 1 || *number > patients_.size())
        return std::nullopt;
    return *number - 1;
}

std::uint64_t payer_data::add_eobs(int per_patient, std::int64_t now_ms)
{
    if (per_patient <= 0)
        return 0;
    for (const auto next : next_index_)
    {
        if (next + static_cast<std::uint32_t>(per_patient) > max_eobs_per_patient)
            throw std::length_error("a patient would pass 1048576 EOBs");
    }
    const std::int64_t stamp = std::max(now_ms, latest_last_updated_ms_ + 1);
    latest_last_updated_ms_ = stamp;
    std::uint64_t added = 0;
    for (std::size_t p = 0; p < patients_.size(); ++p)
    {
        for (int k = 0; k < per_patient; ++k)
        {
            const auto eob = make_eob(p, next_index_[p]++, stamp);
            insert_sorted(p, eob);
            ++eobs_by_type_[static_cast<std::size_t>(eob.type)];
            ++added;
        }
    }
    eobs_total_ += added;
    return added;
}

std::string payer_data::eob_id(const eob_record& eob)
{
    return std::string(to_string(eob.type)) + "--" + std::to_string(eob.claim_number);
}

std::string payer_data::claim_id(const eob_record& eob) { return "-" + std::to_string(eob.claim_number); }

eob_record payer_data::make_eob(std::size_t patient, std::uint32_t index, std::int64_t last_updated_ms) const
{
    eob_record eob;
    eob.index = index;
    eob.last_updated_ms = last_updated_ms;
    eob.type = static_cast<claim_type>((index + patient) % claim_type_count);

    // Multiplying by an odd constant is a bijection modulo 2^39, so distinct (patient, index)
    // pairs get distinct, random-looking 12-digit claim numbers.
    const std::uint64_t ordinal = (static_cast<std::uint64_t>(patient) << 20) | index;
    const std::uint64_t mixed = (ordinal * 0x5DEECE66DULL + mix_hash(seed_)) % claim_number_space;
    eob.claim_number = claim_number_base + mixed;

    // Services end 5 to 64 days before the record was last updated.
    const std::uint64_t h = mix_hash(seed_, patient, index, 2);
    eob.service_end_day =
        static_cast<std::int32_t>(last_updated_ms / ms_per_day - 5 - static_cast<std::int64_t>(h % 60));
    eob.money_permille = static_cast<std::uint16_t>(500 + (h >> 8) % 1001);
    return eob;
}

void payer_data::insert_sorted(std::size_t patient, const eob_record& eob)
{
    auto& list = eobs_[patient];
    list.insert(std::upper_bound(list.begin(), list.end(), eob, eob_order), eob);
}

}  // namespace bbsync::sandbox

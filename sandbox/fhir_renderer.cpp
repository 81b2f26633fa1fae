#include "sandbox/fhir_renderer.hpp"

#include <boost/json/parse.hpp>

#include <bbsync/embedded_file.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sandbox/deterministic_random.hpp"
#include "sandbox/fhir_time.hpp"

namespace bbsync::embedded {
std::span<const embedded_file> sandbox_templates();
std::span<const embedded_file> carin_templates();
}  // namespace bbsync::embedded

namespace bbsync::sandbox {
namespace {

namespace json = boost::json;

// Ids that the sample documents use for their one patient, replaced per patient.
constexpr std::string_view template_eob_patient = "567834";
constexpr std::string_view template_sample_patient = "-20140000010000";
constexpr std::string_view template_sample_mbi = "3S31P00AA00";

constexpr std::array<std::string_view, claim_type_count> eob_template_files{
    "eobReadCarrier.json",
    "eobReadDme.json",
    "eobReadHha.json",
    "eobReadHospice.json",
    "eobReadInpatient.json",
    "eobReadOutpatient.json",
    "eobReadPde.json",
    "eobReadSnf.json",
};

constexpr std::array<std::string_view, 12> family_names{
    "Doe",
    "Smith",
    "Garcia",
    "Nguyen",
    "Johnson",
    "Okafor",
    "Kowalski",
    "Rossi",
    "Tanaka",
    "Murphy",
    "Lopez",
    "Patel",
};

constexpr std::array<std::string_view, 12> given_names{
    "John",
    "Mary",
    "Ana",
    "Minh",
    "Robert",
    "Chioma",
    "Piotr",
    "Giulia",
    "Haruto",
    "Siobhan",
    "Luis",
    "Priya",
};

json::value load_template(std::string_view name, bool carin = false)
{
    for (const auto& file : carin ? embedded::carin_templates() : embedded::sandbox_templates())
    {
        if (file.name != name)
            continue;
        boost::system::error_code ec;
        auto value = json::parse(json::string_view(file.content.data(), file.content.size()), ec);
        if (ec)
            throw std::runtime_error(
                "embedded template " + std::string(name) + " is not valid JSON: " + ec.message()
            );
        return value;
    }
    throw std::runtime_error("embedded template " + std::string(name) + " is missing from the build");
}

void replace_all(std::string& text, std::string_view from, std::string_view to)
{
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
}

// Replaces a substring in every string of a document.
void replace_in_strings(json::value& value, std::string_view from, std::string_view to)
{
    if (auto* object = value.if_object())
    {
        for (auto& member : *object)
            replace_in_strings(member.value(), from, to);
    }
    else if (auto* array = value.if_array())
    {
        for (auto& element : *array)
            replace_in_strings(element, from, to);
    }
    else if (auto* text = value.if_string())
    {
        if (text->find(json::string_view(from.data(), from.size())) != json::string::npos)
        {
            std::string copy(text->c_str(), text->size());
            replace_all(copy, from, to);
            *text = copy;
        }
    }
}

// Generates a Medicare Beneficiary Identifier shaped value (C A AN N A AN N A A N N).
std::string make_mbi(std::uint64_t seed, std::size_t patient)
{
    static constexpr std::string_view letters = "ACDEFGHJKMNPQRTUVWXY";
    static constexpr std::string_view digits = "0123456789";
    static constexpr std::string_view pattern = "CAXNAXNAANN";
    std::string mbi;
    std::uint64_t state = mix_hash(seed, patient, 3);
    for (const char slot : pattern)
    {
        state = mix_hash(state);
        switch (slot)
        {
        case 'C': mbi += static_cast<char>('1' + state % 9); break;
        case 'A': mbi += letters[state % letters.size()]; break;
        case 'N': mbi += digits[state % digits.size()]; break;
        default:
            mbi += (state & 1) != 0U ? letters[(state >> 1) % letters.size()]
                                     : digits[(state >> 1) % digits.size()];
            break;
        }
    }
    return mbi;
}

struct eob_variation
{
    std::string patient_reference_id;
    std::int64_t day_shift;
    std::uint16_t money_permille;
    std::string last_updated;
};

// Moves a FHIR date or the date part of a dateTime by `days`; other strings stay.
void shift_date_text(json::string& text, std::int64_t days)
{
    if (text.size() < 10 || (text.size() > 10 && text[10] != 'T'))
        return;
    const auto day = parse_date(std::string_view(text.data(), 10));
    if (!day)
        return;
    std::string shifted = format_date(*day + days);
    shifted.append(text.data() + 10, text.size() - 10);
    text = shifted;
}

void vary_eob_node(json::value& value, const eob_variation& variation)
{
    if (auto* object = value.if_object())
    {
        if (object->contains("currency"))
        {
            if (auto* amount = object->if_contains("value"); amount != nullptr && amount->is_number())
            {
                const double cents =
                    std::round(amount->to_number<double>() * 100.0 * variation.money_permille / 1000.0);
                *amount = cents / 100.0;
            }
        }
        for (auto& member : *object)
            vary_eob_node(member.value(), variation);
    }
    else if (auto* array = value.if_array())
    {
        for (auto& element : *array)
            vary_eob_node(element, variation);
    }
    else if (auto* text = value.if_string())
    {
        const std::string_view view(text->data(), text->size());
        if (view == "IGNORED_FIELD")
            *text = variation.last_updated;
        else if (view.starts_with("Patient/") || view.starts_with("Coverage/"))
        {
            std::string copy(view);
            replace_all(copy, template_eob_patient, variation.patient_reference_id);
            *text = copy;
        }
        else
            shift_date_text(*text, variation.day_shift);
    }
}

// Points the CARIN example's Patient and Coverage references at the patient's resources.
void point_carin_references(json::value& value, const std::string& payer_id, std::string_view coverage_part)
{
    if (auto* object = value.if_object())
    {
        for (auto& member : *object)
            point_carin_references(member.value(), payer_id, coverage_part);
    }
    else if (auto* array = value.if_array())
    {
        for (auto& element : *array)
            point_carin_references(element, payer_id, coverage_part);
    }
    else if (auto* text = value.if_string())
    {
        if (text->starts_with("Patient/"))
            *text = "Patient/" + payer_id;
        else if (text->starts_with("Coverage/"))
            *text = "Coverage/part-" + std::string(coverage_part) + "-" + payer_id;
    }
}

// Returns a 10-digit NPI whose last digit is the Luhn check digit over "80840" and the first
// nine, as NPPES issues them. The C4BB examples carry placeholder NPIs that fail this check,
// which bbsync rejects.
std::string valid_npi(std::uint64_t seed)
{
    std::string digits = "1" + std::to_string(10'000'000 + seed % 90'000'000);
    const std::string payload = "80840" + digits;
    int sum = 0;
    for (std::size_t i = 0; i < payload.size(); ++i)
    {
        // Doubling starts at the rightmost payload digit, the one left of the check digit.
        int digit = payload[payload.size() - 1 - i] - '0';
        if (i % 2 == 0)
        {
            digit *= 2;
            if (digit > 9)
                digit -= 9;
        }
        sum += digit;
    }
    digits += static_cast<char>('0' + (10 - sum % 10) % 10);
    return digits;
}

std::uint64_t fnv1a(std::string_view text)
{
    std::uint64_t hash = 14695981039346656037ull;
    for (const unsigned char c : text)
    {
        hash = (hash ^ c) * 1099511628211ull;
    }
    return hash;
}

// Gives every us-npi identifier of `resource` a valid NPI derived from `key`.
void replace_npis(json::object& resource, const std::string& key)
{
    auto* identifiers = resource.if_contains("identifier");
    if (identifiers == nullptr || !identifiers->is_array())
        return;
    for (auto& identifier : identifiers->as_array())
    {
        auto* fields = identifier.if_object();
        const auto* system = fields ? fields->if_contains("system") : nullptr;
        if (system != nullptr && system->is_string() &&
            system->get_string() == "http://hl7.org/fhir/sid/us-npi")
            (*fields)["value"] = valid_npi(fnv1a(key));
    }
}

}  // namespace

fhir_renderer::fhir_renderer(std::uint64_t seed)
    : seed_(seed), patient_template_(load_template("patient_bbuser29999.json")),
      coverage_bundle_template_(load_template("coverage_bundle_bbuser29999.json"))
{
    for (std::size_t i = 0; i < claim_type_count; ++i)
    {
        eob_templates_[i] = load_template(eob_template_files[i]);
        const auto* end = eob_templates_[i].at("billablePeriod").as_object().if_contains("end");
        const auto day = end != nullptr && end->is_string() ? parse_date(end->get_string()) : std::nullopt;
        if (!day)
            throw std::runtime_error(
                "embedded template " + std::string(eob_template_files[i]) + " has no billablePeriod.end date"
            );
        template_end_days_[i] = *day;
    }

    for (std::size_t i = 0; i < carin_kind_count; ++i)
    {
        const auto& kind = carin_kinds[i];
        carin_templates_[i] = load_template(kind.template_file, true);
        auto& object = carin_templates_[i].as_object();
        // The generated narrative names the example's patient and ids, so it would contradict
        // the varied resource.
        object.erase("text");
        auto& type = object["type"].as_object();
        if (kind.claim_type != type.at("coding").at(0).at("code").as_string())
        {
            type["coding"].as_array()[0].as_object()["code"] = kind.claim_type;
            type["text"] = kind.claim_type == "vision" ? "Vision" : "Professional";
        }
        const auto day = parse_date(object.at("billablePeriod").at("end").as_string());
        if (!day)
            throw std::runtime_error(
                "embedded template " + std::string(kind.template_file) + " has no billablePeriod.end date"
            );
        carin_end_days_[i] = *day;
    }
    for (const auto& file : embedded::carin_templates())
    {
        const std::string_view name = file.name;
        if (!name.starts_with("Practitioner-") && !name.starts_with("Organization-"))
            continue;
        auto resource = load_template(name, true);
        resource.as_object().erase("text");
        const std::string key = std::string(resource.at("resourceType").as_string()) + "/" +
                                std::string(resource.at("id").as_string());
        replace_npis(resource.as_object(), key);
        carin_references_.emplace(key, std::move(resource));
    }
}

std::size_t fhir_renderer::carin_kind_of(const eob_record& eob)
{
    return mix_hash(eob.claim_number, 7) % carin_kind_count;
}

std::string fhir_renderer::carin_eob_id(const eob_record& eob)
{
    return "c4bb-" + std::string(carin_kinds[carin_kind_of(eob)].name) + "-" +
           std::to_string(eob.claim_number);
}

json::value fhir_renderer::render_carin_eob(const patient_record& patient, const eob_record& eob) const
{
    const auto kind_index = carin_kind_of(eob);
    const auto& kind = carin_kinds[kind_index];
    json::value doc = carin_templates_[kind_index];

    const eob_variation variation{
        patient.payer_id,
        eob.service_end_day - carin_end_days_[kind_index],
        eob.money_permille,
        format_instant(eob.last_updated_ms),
    };
    vary_eob_node(doc, variation);
    point_carin_references(doc, patient.payer_id, kind.coverage_part);

    auto& object = doc.as_object();
    object["id"] = carin_eob_id(eob);
    object["meta"].as_object()["lastUpdated"] = variation.last_updated;
    for (auto& identifier : object["identifier"].as_array())
        identifier.as_object()["value"] = std::to_string(eob.claim_number);
    return doc;
}

const json::value* fhir_renderer::carin_reference(std::string_view reference) const
{
    const auto found = carin_references_.find(reference);
    return found == carin_references_.end() ? nullptr : &found->second;
}

json::value fhir_renderer::render_patient(std::size_t index, const patient_record& patient) const
{
    json::value doc = patient_template_;
    auto& object = doc.as_object();
    object["id"] = patient.payer_id;
    const std::string mbi = make_mbi(seed_, index);
    for (auto& identifier : object["identifier"].as_array())
    {
        auto& id_object = identifier.as_object();
        const auto system = id_object["system"].as_string();
        if (system == "https://bluebutton.cms.gov/resources/variables/bene_id")
            id_object["value"] = patient.payer_id;
        else if (system == "http://hl7.org/fhir/sid/us-mbi")
            id_object["value"] = mbi;
    }

    // Name and birth date from small lists, so that tests can tell patients apart.
    const std::uint64_t h = mix_hash(seed_, index, 4);
    json::object name;
    name["use"] = "usual";
    name["family"] = family_names[h % family_names.size()];
    name["given"] = json::array{
        given_names[(h >> 8) % given_names.size()], json::string(1, static_cast<char>('A' + (h >> 16) % 26))};
    object["name"] = json::array{std::move(name)};
    object["birthDate"] =
        format_date(days_from_civil(1930, 1, 1) + static_cast<std::int64_t>((h >> 24) % (365 * 28)));
    return doc;
}

json::array fhir_renderer::render_coverages(std::size_t index, const patient_record& patient) const
{
    json::array coverages;
    const std::string mbi = make_mbi(seed_, index);
    for (const auto& entry : coverage_bundle_template_.at("entry").as_array())
    {
        json::value resource = entry.at("resource");
        replace_in_strings(resource, template_sample_patient, patient.payer_id);
        replace_in_strings(resource, template_sample_mbi, mbi);
        coverages.push_back(std::move(resource));
    }
    return coverages;
}

json::value fhir_renderer::render_eob(const patient_record& patient, const eob_record& eob) const
{
    const auto type_index = static_cast<std::size_t>(eob.type);
    json::value doc = eob_templates_[type_index];

    // Dates, money, references and masked fields, everywhere in the document.
    const eob_variation variation{
        patient.payer_id,
        eob.service_end_day - template_end_days_[type_index],
        eob.money_permille,
        format_instant(eob.last_updated_ms),
    };
    vary_eob_node(doc, variation);

    // Fields with a known place.
    auto& object = doc.as_object();
    object["id"] = payer_data::eob_id(eob);
    object["meta"].as_object()["lastUpdated"] = variation.last_updated;
    object["created"] = variation.last_updated;
    const std::uint64_t h = mix_hash(seed_, eob.claim_number, 5);
    for (auto& identifier : object["identifier"].as_array())
    {
        auto& id_object = identifier.as_object();
        const auto system = id_object["system"].as_string();
        if (system.ends_with("/variables/clm_id") || system.ends_with("/variables/pde_id"))
            id_object["value"] = payer_data::claim_id(eob);
        else if (system.ends_with("/identifier/claim-group"))
            id_object["value"] = std::to_string(100 + h % 900);
        else if (system.ends_with("/variables/rx_srvc_rfrnc_num"))
            id_object["value"] = std::to_string(100000 + (h >> 12) % 900000);
    }
    return doc;
}

}  // namespace bbsync::sandbox

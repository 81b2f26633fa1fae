#include "daemon/mapping/claim_records.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include "daemon/mapping/fhir_checks.hpp"
#include "daemon/mapping/fhir_json.hpp"
#include "daemon/mapping/json_access.hpp"
#include "daemon/mapping/mapping_error.hpp"

namespace bbsync::mapping {
namespace {

namespace json = boost::json;

constexpr std::string_view eob_type_system = "https://bluebutton.cms.gov/resources/codesystem/eob-type";
constexpr std::string_view claim_type_system = "http://terminology.hl7.org/CodeSystem/claim-type";
constexpr std::string_view npi_system = "http://hl7.org/fhir/sid/us-npi";
constexpr std::string_view ndc_system = "http://hl7.org/fhir/sid/ndc";
constexpr std::string_view hl7_adjudication_system = "http://terminology.hl7.org/CodeSystem/adjudication";
constexpr std::string_view carin_adjudication_system =
    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication";
constexpr std::string_view coverage_class_system = "http://terminology.hl7.org/CodeSystem/coverage-class";

// An adjudication or total category and the record fields that carry its amount.
struct amount_field
{
    std::string_view item_field;
    std::string_view header_field;
    std::string_view code;  // in the HL7 adjudication or the CARIN C4BBAdjudication code system
};

constexpr std::array<amount_field, 10> amount_fields{{
    {"submittedAmount", "totalSubmittedAmount", "submitted"},
    {"allowedAmount", "totalAllowedAmount", "eligible"},
    {"deductibleAmount", "totalDeductibleAmount", "deductible"},
    {"copayAmount", "totalCopayAmount", "copay"},
    {"coinsuranceAmount", "totalCoinsuranceAmount", "coinsurance"},
    {"noncoveredAmount", "totalNoncoveredAmount", "noncovered"},
    {"benefitAmount", "totalBenefitAmount", "benefit"},
    {"paidToProviderAmount", "totalPaidToProviderAmount", "paidtoprovider"},
    {"patientPayAmount", "totalPatientPayAmount", "paidbypatient"},
    {"priorPayerPaidAmount", "totalPriorPayerPaidAmount", "priorpayerpaid"},
}};

// Field lists in schema order. docs/datacloud/BlueButtonClaim.yaml declares the same fields, and
// the mapping tests compare both.
constexpr std::array<std::string_view, 29> header_fields{
    "id",
    "patientId",
    "claimType",
    "claimSubType",
    "status",
    "use",
    "outcome",
    "billablePeriodStart",
    "billablePeriodEnd",
    "created",
    "insurer",
    "providerNpi",
    "providerDisplay",
    "currency",
    "totalSubmittedAmount",
    "totalAllowedAmount",
    "totalDeductibleAmount",
    "totalCopayAmount",
    "totalCoinsuranceAmount",
    "totalNoncoveredAmount",
    "totalBenefitAmount",
    "totalPaidToProviderAmount",
    "totalPatientPayAmount",
    "totalPriorPayerPaidAmount",
    "paymentAmount",
    "paymentDate",
    "itemCount",
    "diagnosisCount",
    "lastUpdated",
};

constexpr std::array<std::string_view, 25> line_item_fields{
    "id",
    "claimId",
    "patientId",
    "sequence",
    "productOrServiceSystem",
    "productOrServiceCode",
    "productOrServiceDisplay",
    "ndcCode",
    "revenueCode",
    "servicedStart",
    "servicedEnd",
    "quantity",
    "locationCode",
    "currency",
    "submittedAmount",
    "allowedAmount",
    "deductibleAmount",
    "copayAmount",
    "coinsuranceAmount",
    "noncoveredAmount",
    "benefitAmount",
    "paidToProviderAmount",
    "patientPayAmount",
    "priorPayerPaidAmount",
    "lastUpdated",
};

constexpr std::array<std::string_view, 11> diagnosis_fields{
    "id",
    "claimId",
    "patientId",
    "sequence",
    "codeSystem",
    "code",
    "display",
    "diagnosisType",
    "onAdmission",
    "packageCode",
    "lastUpdated",
};

constexpr std::array<std::string_view, 9> procedure_fields{
    "id",
    "claimId",
    "patientId",
    "sequence",
    "codeSystem",
    "code",
    "display",
    "procedureDate",
    "lastUpdated",
};

constexpr std::array<std::string_view, 9> care_team_fields{
    "id",
    "claimId",
    "patientId",
    "sequence",
    "providerNpi",
    "role",
    "qualification",
    "responsible",
    "lastUpdated",
};

constexpr std::array<std::string_view, 12> coverage_fields{
    "id",
    "patientId",
    "status",
    "coverageType",
    "coverageGroup",
    "coveragePlan",
    "relationship",
    "periodStart",
    "periodEnd",
    "payor",
    "order",
    "lastUpdated",
};

// Returns a record with every field of `fields` set to null, in that order.
json::object empty_record(std::span<const std::string_view> fields)
{
    json::object record(fields.size());
    for (const std::string_view field : fields)
    {
        record.emplace(field, nullptr);
    }
    return record;
}

// Sets a field that the record's schema declares. A missing field is a bug in this file.
void set_field(json::object& record, std::string_view field, json::value value)
{
    json::value* slot = record.if_contains(field);
    if (slot == nullptr)
    {
        throw std::logic_error("claim record has no field " + std::string(field));
    }
    *slot = std::move(value);
}

void set_text(json::object& record, std::string_view field, std::optional<std::string_view> text)
{
    if (text)
    {
        set_field(record, field, json::string(*text));
    }
}

// Returns the seconds since midnight of a clock time "hh:mm:ss", or nullopt.
std::optional<int> parse_clock(std::string_view text)
{
    if (text.size() != 8 || text[2] != ':' || text[5] != ':')
    {
        return std::nullopt;
    }
    int parts[3] = {};
    for (int i = 0; i < 3; ++i)
    {
        const char high = text[static_cast<std::size_t>(i * 3)];
        const char low = text[static_cast<std::size_t>(i * 3 + 1)];
        if (high < '0' || high > '9' || low < '0' || low > '9')
        {
            return std::nullopt;
        }
        parts[i] = (high - '0') * 10 + (low - '0');
    }
    if (parts[0] > 23 || parts[1] > 59 || parts[2] > 59)
    {
        return std::nullopt;
    }
    return parts[0] * 3600 + parts[1] * 60 + parts[2];
}

// Returns the calendar date of a full FHIR date "YYYY-MM-DD", or nullopt.
std::optional<std::chrono::year_month_day> parse_full_date(std::string_view text)
{
    if (text.size() != 10 || !is_fhir_date(text))
    {
        return std::nullopt;
    }
    const auto number = [&](std::size_t pos, std::size_t length) {
        int value = 0;
        for (std::size_t i = pos; i < pos + length; ++i)
        {
            value = value * 10 + (text[i] - '0');
        }
        return value;
    };
    const std::chrono::year_month_day date{
        std::chrono::year(number(0, 4)),
        std::chrono::month(static_cast<unsigned>(number(5, 2))),
        std::chrono::day(static_cast<unsigned>(number(8, 2)))};
    if (!date.ok())
    {
        return std::nullopt;
    }
    return date;
}

// Converts a FHIR date or dateTime to a Data Cloud date "yyyy-MM-dd": the date part as written,
// in the source's own time zone. Returns nullopt for partial dates (YYYY, YYYY-MM) and invalid text.
std::optional<std::string> to_datacloud_date(std::optional<std::string_view> text)
{
    if (!text || !is_fhir_date_time(*text) || !parse_full_date(text->substr(0, 10)))
    {
        return std::nullopt;
    }
    return std::string(text->substr(0, 10));
}

// Converts a FHIR instant, or a dateTime with a time, to the Data Cloud date-time form
// "yyyy-MM-ddTHH:mm:ss.SSSZ" in UTC. Digits beyond milliseconds are cut. Returns nullopt otherwise.
std::optional<std::string> to_datacloud_date_time(std::optional<std::string_view> text)
{
    if (!text || text->size() < 20 || (*text)[10] != 'T' || !is_fhir_date_time(*text))
    {
        return std::nullopt;
    }
    const auto date = parse_full_date(text->substr(0, 10));
    const auto clock = parse_clock(text->substr(11, 8));
    if (!date || !clock)
    {
        return std::nullopt;
    }

    std::size_t pos = 19;
    int millis = 0;
    if ((*text)[pos] == '.')
    {
        ++pos;
        int scale = 100;
        while (pos < text->size() && (*text)[pos] >= '0' && (*text)[pos] <= '9')
        {
            millis += ((*text)[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
    }

    int offset_seconds = 0;
    const std::string_view zone = text->substr(pos);
    if (zone != "Z")
    {
        const auto zone_clock =
            zone.size() == 6 ? parse_clock(std::string(zone.substr(1)) + ":00") : std::nullopt;
        if (!zone_clock || (zone[0] != '+' && zone[0] != '-'))
        {
            return std::nullopt;
        }
        offset_seconds = zone[0] == '+' ? *zone_clock : -*zone_clock;
    }

    using namespace std::chrono;
    const sys_time<milliseconds> instant =
        sys_days(*date) + seconds(*clock - offset_seconds) + milliseconds(millis);
    const sys_days day = floor<days>(instant);
    const year_month_day utc_date(day);
    const hh_mm_ss<milliseconds> utc_time(instant - day);

    std::array<char, 32> buffer{};
    const int written = std::snprintf(
        buffer.data(),
        buffer.size(),
        "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
        static_cast<int>(utc_date.year()),
        static_cast<unsigned>(utc_date.month()),
        static_cast<unsigned>(utc_date.day()),
        static_cast<int>(utc_time.hours().count()),
        static_cast<int>(utc_time.minutes().count()),
        static_cast<int>(utc_time.seconds().count()),
        static_cast<int>(utc_time.subseconds().count())
    );
    if (written != 24)
    {
        return std::nullopt;
    }
    return std::string(buffer.data(), 24);
}

// Returns the record-modified value: meta.lastUpdated in Data Cloud form, else the context's
// fallback, else null.
json::value last_updated_of(const json::object& resource, const mapping_context& ctx)
{
    const json::object* meta = find_object(resource, "meta");
    auto text = meta == nullptr ? std::nullopt : to_datacloud_date_time(find_string(*meta, "lastUpdated"));
    if (!text)
    {
        text = to_datacloud_date_time(ctx.fallback_last_updated);
    }
    if (!text)
    {
        return nullptr;
    }
    return json::string(*text);
}

// Returns the first coding of a CodeableConcept under `key`, or nullptr.
const json::object* first_coding(const json::object* parent, std::string_view key)
{
    const json::object* concept_object = parent == nullptr ? nullptr : find_object(*parent, key);
    const json::array* codings = concept_object == nullptr ? nullptr : find_array(*concept_object, "coding");
    if (codings == nullptr || codings->empty())
    {
        return nullptr;
    }
    return codings->front().if_object();
}

std::optional<std::string_view> first_code(const json::object* parent, std::string_view key)
{
    const json::object* coding = first_coding(parent, key);
    return coding == nullptr ? std::nullopt : find_string(*coding, "code");
}

// Returns the first coding of the first CodeableConcept in the array under `key`, or nullptr.
const json::object* first_coding_in_array(const json::object& parent, std::string_view key)
{
    const json::array* concepts = find_array(parent, key);
    if (concepts == nullptr || concepts->empty() || !concepts->front().is_object())
    {
        return nullptr;
    }
    const json::array* codings = find_array(concepts->front().get_object(), "coding");
    if (codings == nullptr || codings->empty())
    {
        return nullptr;
    }
    return codings->front().if_object();
}

// Returns the numeric value of a Money or Quantity, unchanged, or null.
json::value number_of(const json::object* money)
{
    const json::value* value = money == nullptr ? nullptr : money->if_contains("value");
    if (value == nullptr || !is_json_number(*value))
    {
        return nullptr;
    }
    return *value;
}

// Copies the amounts of adjudication or total entries into the fields of amount_fields. The first
// entry of each category wins. Returns the first currency seen.
std::optional<std::string_view> copy_amounts(const json::array* entries, json::object& record, bool header)
{
    std::optional<std::string_view> currency;
    if (entries == nullptr)
    {
        return currency;
    }
    std::set<std::string_view> filled;
    for (const json::value& entry : *entries)
    {
        const json::object* adjudication = entry.if_object();
        const json::object* amount = adjudication == nullptr ? nullptr : find_object(*adjudication, "amount");
        if (amount == nullptr)
        {
            continue;
        }
        const json::object* category = find_object(*adjudication, "category");
        for (const amount_field& field : amount_fields)
        {
            const bool matches = find_code(category, hl7_adjudication_system) == field.code ||
                                 find_code(category, carin_adjudication_system) == field.code;
            const std::string_view name = header ? field.header_field : field.item_field;
            if (matches && filled.insert(name).second)
            {
                set_field(record, name, number_of(amount));
                if (!currency)
                {
                    currency = find_string(*amount, "currency");
                }
            }
        }
    }
    return currency;
}

// Returns the NPI of a Reference with a us-npi or untyped identifier when it passes the NPI check.
std::optional<std::string_view> valid_npi_of(const json::object* reference)
{
    const json::object* identifier = reference == nullptr ? nullptr : find_object(*reference, "identifier");
    const auto value = identifier == nullptr ? std::nullopt : find_string(*identifier, "value");
    if (!value || !is_valid_npi(*value))
    {
        return std::nullopt;
    }
    const auto system = find_string(*identifier, "system");
    if (system && *system != npi_system)
    {
        return std::nullopt;
    }
    return value;
}

// Builds records for the entries of one EOB array that carry a positive, not yet used `sequence`.
class sequenced_records
{
public:
    sequenced_records(
        const json::object& eob,
        std::string_view eob_id,
        const mapping_context& ctx,
        const json::value& last_updated
    )
        : eob_(eob), eob_id_(eob_id), ctx_(ctx), last_updated_(last_updated)
    {}

    template <class Fill>
    std::vector<json::object> map(
        std::string_view array_key,
        std::string_view id_part,
        std::span<const std::string_view> fields,
        Fill fill
    ) const
    {
        std::vector<json::object> records;
        const json::array* entries = find_array(eob_, array_key);
        if (entries == nullptr)
        {
            return records;
        }
        std::set<std::uint64_t> used;
        for (const json::value& value : *entries)
        {
            const json::object* entry = value.if_object();
            const auto sequence = entry == nullptr ? std::nullopt : find_positive_integer(*entry, "sequence");
            if (!sequence || !used.insert(*sequence).second)
            {
                continue;
            }
            json::object record = empty_record(fields);
            set_field(
                record,
                "id",
                json::string(eob_id_ + "-" + std::string(id_part) + "-" + std::to_string(*sequence))
            );
            set_field(record, "claimId", json::string(eob_id_));
            set_field(record, "patientId", json::string(ctx_.sf_patient_id));
            set_field(record, "sequence", *sequence);
            set_field(record, "lastUpdated", last_updated_);
            fill(*entry, record);
            records.push_back(std::move(record));
        }
        return records;
    }

private:
    const json::object& eob_;
    std::string eob_id_;
    const mapping_context& ctx_;
    const json::value& last_updated_;
};

json::object map_header(
    const json::object& eob, std::string_view id, const mapping_context& ctx, json::value last_updated
)
{
    json::object record = empty_record(header_fields);
    set_field(record, "id", json::string(id));
    set_field(record, "patientId", json::string(ctx.sf_patient_id));

    const json::object* type = find_object(eob, "type");
    auto claim_type_code = find_code(type, eob_type_system);
    if (!claim_type_code)
    {
        claim_type_code = find_code(type, claim_type_system);
    }
    set_text(record, "claimType", claim_type_code);
    set_text(record, "claimSubType", first_code(&eob, "subType"));
    set_text(record, "status", find_string(eob, "status"));
    set_text(record, "use", find_string(eob, "use"));
    set_text(record, "outcome", find_string(eob, "outcome"));

    if (const json::object* period = find_object(eob, "billablePeriod"))
    {
        set_text(record, "billablePeriodStart", to_datacloud_date(find_string(*period, "start")));
        set_text(record, "billablePeriodEnd", to_datacloud_date(find_string(*period, "end")));
    }
    set_text(record, "created", to_datacloud_date(find_string(eob, "created")));

    std::optional<std::string_view> insurer;
    if (const json::object* reference = find_object(eob, "insurer"))
    {
        insurer = find_string(*reference, "display");
        const json::object* identifier = find_object(*reference, "identifier");
        if (!insurer && identifier != nullptr)
        {
            insurer = find_string(*identifier, "value");
        }
    }
    set_text(record, "insurer", insurer ? insurer : std::optional<std::string_view>(ctx.default_payor));

    const json::object* provider = find_object(eob, "provider");
    set_text(record, "providerNpi", valid_npi_of(provider));
    set_text(
        record, "providerDisplay", provider == nullptr ? std::nullopt : find_string(*provider, "display")
    );

    auto currency = copy_amounts(find_array(eob, "total"), record, true);
    if (const json::object* payment = find_object(eob, "payment"))
    {
        const json::object* amount = find_object(*payment, "amount");
        set_field(record, "paymentAmount", number_of(amount));
        set_text(record, "paymentDate", to_datacloud_date(find_string(*payment, "date")));
        if (!currency && amount != nullptr)
        {
            currency = find_string(*amount, "currency");
        }
    }
    set_text(record, "currency", currency);

    const json::array* items = find_array(eob, "item");
    const json::array* diagnoses = find_array(eob, "diagnosis");
    set_field(record, "itemCount", static_cast<std::uint64_t>(items == nullptr ? 0 : items->size()));
    set_field(
        record, "diagnosisCount", static_cast<std::uint64_t>(diagnoses == nullptr ? 0 : diagnoses->size())
    );
    set_field(record, "lastUpdated", std::move(last_updated));
    return record;
}

void fill_line_item(const json::object& item, json::object& record)
{
    if (const json::object* coding = first_coding(&item, "productOrService"))
    {
        set_text(record, "productOrServiceSystem", find_string(*coding, "system"));
        set_text(record, "productOrServiceCode", find_string(*coding, "code"));
        set_text(record, "productOrServiceDisplay", find_string(*coding, "display"));
    }
    set_text(record, "ndcCode", find_code(find_object(item, "productOrService"), ndc_system));
    set_text(record, "revenueCode", first_code(&item, "revenue"));

    if (const auto date = to_datacloud_date(find_string(item, "servicedDate")))
    {
        set_field(record, "servicedStart", json::string(*date));
        set_field(record, "servicedEnd", json::string(*date));
    }
    else if (const json::object* period = find_object(item, "servicedPeriod"))
    {
        set_text(record, "servicedStart", to_datacloud_date(find_string(*period, "start")));
        set_text(record, "servicedEnd", to_datacloud_date(find_string(*period, "end")));
    }
    set_field(record, "quantity", number_of(find_object(item, "quantity")));
    set_text(record, "locationCode", first_code(&item, "locationCodeableConcept"));
    set_text(record, "currency", copy_amounts(find_array(item, "adjudication"), record, false));
}

void fill_diagnosis(const json::object& diagnosis, json::object& record)
{
    if (const json::object* coding = first_coding(&diagnosis, "diagnosisCodeableConcept"))
    {
        set_text(record, "codeSystem", find_string(*coding, "system"));
        set_text(record, "code", find_string(*coding, "code"));
        set_text(record, "display", find_string(*coding, "display"));
    }
    if (const json::object* type = first_coding_in_array(diagnosis, "type"))
    {
        set_text(record, "diagnosisType", find_string(*type, "code"));
    }
    set_text(record, "onAdmission", first_code(&diagnosis, "onAdmission"));
    set_text(record, "packageCode", first_code(&diagnosis, "packageCode"));
}

void fill_procedure(const json::object& procedure, json::object& record)
{
    if (const json::object* coding = first_coding(&procedure, "procedureCodeableConcept"))
    {
        set_text(record, "codeSystem", find_string(*coding, "system"));
        set_text(record, "code", find_string(*coding, "code"));
        set_text(record, "display", find_string(*coding, "display"));
    }
    set_text(record, "procedureDate", to_datacloud_date(find_string(procedure, "date")));
}

void fill_care_team(const json::object& member, json::object& record)
{
    set_text(record, "providerNpi", valid_npi_of(find_object(member, "provider")));
    set_text(record, "role", first_code(&member, "role"));
    set_text(record, "qualification", first_code(&member, "qualification"));
    if (const json::value* responsible = member.if_contains("responsible");
        responsible && responsible->is_bool())
    {
        set_field(record, "responsible", responsible->get_bool());
    }
}

// Checks whether `value` is the Coverage's subscriberId or one of its identifier values. Some
// payers reuse the member id as the group value, and a member id must not reach Data Cloud.
bool is_member_identifier(const json::object& coverage, std::string_view value)
{
    if (find_string(coverage, "subscriberId") == value)
    {
        return true;
    }
    if (const json::array* identifiers = find_array(coverage, "identifier"))
    {
        for (const json::value& entry : *identifiers)
        {
            const json::object* identifier = entry.if_object();
            if (identifier != nullptr && find_string(*identifier, "value") == value)
            {
                return true;
            }
        }
    }
    return false;
}

// Checks what map_eob checks before mapping: resource type, id and patient id.
boost::system::error_code check_resource(
    const json::object& resource, std::string_view resource_type, const mapping_context& ctx
)
{
    if (find_string(resource, "resourceType") != resource_type)
    {
        return mapping_errc::wrong_resource_type;
    }
    const std::optional<std::string_view> id = find_string(resource, "id");
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
    return {};
}

}  // namespace

boost::system::result<claim_records> map_claim_records(const json::object& eob, const mapping_context& ctx)
{
    if (const auto ec = check_resource(eob, "ExplanationOfBenefit", ctx))
    {
        return ec;
    }
    const std::string_view id = *find_string(eob, "id");
    const json::value last_updated = last_updated_of(eob, ctx);

    claim_records records;
    records.by_object[std::string(claim_header_object)].push_back(map_header(eob, id, ctx, last_updated));

    const sequenced_records sequenced(eob, id, ctx, last_updated);
    records.by_object[std::string(claim_line_item_object)] =
        sequenced.map("item", "item", line_item_fields, fill_line_item);
    records.by_object[std::string(claim_diagnosis_object)] =
        sequenced.map("diagnosis", "diagnosis", diagnosis_fields, fill_diagnosis);
    records.by_object[std::string(claim_procedure_object)] =
        sequenced.map("procedure", "procedure", procedure_fields, fill_procedure);
    records.by_object[std::string(claim_care_team_object)] =
        sequenced.map("careTeam", "careteam", care_team_fields, fill_care_team);
    return records;
}

boost::system::result<claim_records> map_coverage_records(
    const json::object& coverage, const mapping_context& ctx
)
{
    if (const auto ec = check_resource(coverage, "Coverage", ctx))
    {
        return ec;
    }

    json::object record = empty_record(coverage_fields);
    set_field(record, "id", json::string(*find_string(coverage, "id")));
    set_field(record, "patientId", json::string(ctx.sf_patient_id));
    set_text(record, "status", find_string(coverage, "status"));
    set_text(record, "coverageType", first_code(&coverage, "type"));
    if (const json::array* classes = find_array(coverage, "class"))
    {
        for (const json::value& entry : *classes)
        {
            const json::object* coverage_class = entry.if_object();
            const auto kind = coverage_class == nullptr
                                  ? std::nullopt
                                  : find_code(find_object(*coverage_class, "type"), coverage_class_system);
            if (kind == "group" || kind == "plan")
            {
                const std::string_view field = *kind == "group" ? "coverageGroup" : "coveragePlan";
                const auto value = find_string(*coverage_class, "value");
                if (record.at(field).is_null() && value && !is_member_identifier(coverage, *value))
                {
                    set_text(record, field, value);
                }
            }
        }
    }
    set_text(record, "relationship", first_code(&coverage, "relationship"));
    if (const json::object* period = find_object(coverage, "period"))
    {
        set_text(record, "periodStart", to_datacloud_date(find_string(*period, "start")));
        set_text(record, "periodEnd", to_datacloud_date(find_string(*period, "end")));
    }

    std::optional<std::string_view> payor;
    if (const json::array* payors = find_array(coverage, "payor"); payors && !payors->empty())
    {
        if (const json::object* reference = payors->front().if_object())
        {
            payor = find_string(*reference, "display");
            const json::object* identifier = find_object(*reference, "identifier");
            if (!payor && identifier != nullptr)
            {
                payor = find_string(*identifier, "value");
            }
        }
    }
    set_text(record, "payor", payor ? payor : std::optional<std::string_view>(ctx.default_payor));
    if (const auto order = find_positive_integer(coverage, "order"))
    {
        set_field(record, "order", *order);
    }
    set_field(record, "lastUpdated", last_updated_of(coverage, ctx));

    claim_records records;
    records.by_object[std::string(claim_coverage_object)].push_back(std::move(record));
    return records;
}

std::span<const std::string_view> claim_record_fields(std::string_view object_name) noexcept
{
    if (object_name == claim_header_object)
    {
        return header_fields;
    }
    if (object_name == claim_line_item_object)
    {
        return line_item_fields;
    }
    if (object_name == claim_diagnosis_object)
    {
        return diagnosis_fields;
    }
    if (object_name == claim_procedure_object)
    {
        return procedure_fields;
    }
    if (object_name == claim_care_team_object)
    {
        return care_team_fields;
    }
    if (object_name == claim_coverage_object)
    {
        return coverage_fields;
    }
    return {};
}

}  // namespace bbsync::mapping

#pragma once

#include <string_view>

namespace bbsync::mapping {

// Checks a FHIR id: 1 to 64 characters from A-Z a-z 0-9 - . Never throws.
bool is_fhir_id(std::string_view text) noexcept;

// Checks a FHIR date: YYYY, YYYY-MM or YYYY-MM-DD with month 01-12 and day 01-31. Never throws.
bool is_fhir_date(std::string_view text) noexcept;

// Checks a FHIR dateTime: a FHIR date, or YYYY-MM-DDThh:mm:ss with optional fraction and a
// mandatory zone (Z or +hh:mm / -hh:mm). Never throws.
bool is_fhir_date_time(std::string_view text) noexcept;

// Checks a FHIR instant: YYYY-MM-DDThh:mm:ss with optional fraction and a zone. Never throws.
bool is_fhir_instant(std::string_view text) noexcept;

// Checks a US National Provider Identifier: exactly 10 digits whose last digit is the Luhn check
// digit computed over "80840" followed by the first nine digits (the NPI standard's rule). This
// rejects placeholders such as "0000000000" and most made-up values. Never throws.
bool is_valid_npi(std::string_view text) noexcept;

}  // namespace bbsync::mapping

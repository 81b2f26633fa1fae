#ifndef BBSYNC_SANDBOX_FHIR_TIME_HPP
#define BBSYNC_SANDBOX_FHIR_TIME_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bbsync::sandbox {

// Converts a proleptic Gregorian date to days since 1970-01-01. Throws nothing.
std::int64_t days_from_civil(int year, int month, int day);

// Formats days since 1970-01-01 as a FHIR date "YYYY-MM-DD". Throws only std::bad_alloc.
std::string format_date(std::int64_t days);

// Parses a FHIR date "YYYY-MM-DD" into days since 1970-01-01. Returns nullopt when the text
// is not such a date. Throws nothing.
std::optional<std::int64_t> parse_date(std::string_view text);

// Formats milliseconds since the epoch as a FHIR instant with millisecond precision and a
// "+00:00" offset, the form Blue Button uses in meta.lastUpdated. Throws only std::bad_alloc.
std::string format_instant(std::int64_t epoch_ms);

// Formats milliseconds since the epoch as "YYYY-MM-DD HH:MM:SSZ". Throws only std::bad_alloc.
std::string format_grant_expiration(std::int64_t epoch_ms);

// Parses a FHIR dateTime or instant ("YYYY-MM-DD", "YYYY-MM-DDThh:mm[:ss[.fff...]]" with
// an optional "Z" or "+hh:mm"/"-hh:mm" offset; no offset means UTC) into microseconds since
// the epoch. Returns nullopt when the text is not such a value. Throws nothing.
std::optional<std::int64_t> parse_instant_us(std::string_view text);

// Returns the current time in milliseconds since the epoch. Throws nothing.
std::int64_t now_epoch_ms();

}  // namespace bbsync::sandbox

#endif

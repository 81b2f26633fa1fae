#pragma once

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// FHIR JSON with exact numbers. Boost.JSON 1.81 decodes every number with a fraction or exponent to
// a double, so 10.10 comes back as 10.1 and 2^70 as a rounded double. parse_fhir_json keeps such a
// number as a json::string whose first byte is 0xFF, followed by the number's text exactly as
// received. The byte 0xFF never occurs in UTF-8, and parse_fhir_json rejects any text that is not
// valid UTF-8, so no string from the input can look like a kept number. serialize_fhir_json writes
// a kept number back as a bare JSON number, byte for byte. Code that reads numbers from parsed FHIR
// JSON uses is_json_number() and number_text() instead of is_double().
namespace bbsync::mapping {

// Limits that parse_fhir_json enforces on untrusted input.
struct parse_limits
{
    std::size_t max_depth = 32;  // nesting of arrays and objects; deeper input fails with too_deep
    // A page contains at most 50 EOBs, and the largest sample EOB is about 53 KB compact.
    std::size_t max_bytes = 32 * 1024 * 1024;
};

// First byte of a json::string that carries the text of a kept number.
inline constexpr char kept_number_prefix = '\xFF';

// Parses JSON text into a value. A number stays an int64 or uint64 when it is an integer that fits,
// and a double when std::to_chars writes the double back as the same text (10.5, 0.25). Every other
// number (10.10, 1e400, -0.0, -0, 2^70) is kept as its text, as described above. Returns
// fhir_json_errc::too_large, too_deep or invalid_utf8 when a limit is exceeded, and a
// boost::json::error for a syntax error. The value is allocated from `storage`. Throws only
// std::bad_alloc.
boost::system::result<boost::json::value> parse_fhir_json(
    std::string_view text, const parse_limits& limits = {}, boost::json::storage_ptr storage = {}
);

// Serializes a value as compact JSON. Kept numbers are written as their text, doubles as the
// shortest text that reads back as the same double (std::to_chars), infinities as 1e99999 and
// -1e99999, and NaN as null. Object members keep their order, so equal values give equal text.
// A string that starts with 0xFF but does not hold a valid JSON number is written as a string.
// Throws only std::bad_alloc.
std::string serialize_fhir_json(const boost::json::value& value);

// Serializes an object like the overload above, without first copying it into a value.
std::string serialize_fhir_json(const boost::json::object& object);

// Appends the serialize_fhir_json text of a value or an object to `out`.
void append_fhir_json(std::string& out, const boost::json::value& value);
void append_fhir_json(std::string& out, const boost::json::object& object);

// Appends `text` as a JSON string, quoted, with quotes, backslashes and control characters
// escaped as serialize_fhir_json escapes them.
void append_json_string(std::string& out, std::string_view text);

// Returns a value that serialize_fhir_json writes as `text`, which must be a JSON number. Returns
// nullopt when `text` is not a JSON number. Throws only std::bad_alloc.
std::optional<boost::json::value> make_kept_number(std::string_view text);

// Returns the text of a kept number, or nullopt for any other value. Never throws.
std::optional<std::string_view> kept_number_text(const boost::json::value& value) noexcept;

// Checks for a JSON number: int64, uint64, double or a kept number. Never throws.
bool is_json_number(const boost::json::value& value) noexcept;

// Checks JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. Never throws.
bool is_json_number_text(std::string_view text) noexcept;

}  // namespace bbsync::mapping

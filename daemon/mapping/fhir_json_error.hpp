#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace bbsync::mapping {

struct parse_limits;

// Reasons why parse_fhir_json rejects a text, besides the syntax errors of boost::json::error.
enum class fhir_json_errc
{
    too_large = 1,  // the text is longer than parse_limits::max_bytes
    too_deep,       // arrays and objects nest deeper than parse_limits::max_depth
    invalid_utf8,   // the text is not valid UTF-8
};

// Returns the category of fhir_json_errc, named "bbsync.fhir_json". Never throws.
const boost::system::error_category& fhir_json_category() noexcept;

// Wraps a fhir_json_errc in an error_code of fhir_json_category(). Never throws.
boost::system::error_code make_error_code(fhir_json_errc e) noexcept;

// Describes an error returned by parse_fhir_json with the limit that was exceeded, for example
// "JSON nesting deeper than 32 levels". Other error codes get their own message(). Throws only
// std::bad_alloc.
std::string describe_parse_error(const boost::system::error_code& ec, const parse_limits& limits);

}  // namespace bbsync::mapping

template <>
struct boost::system::is_error_code_enum<bbsync::mapping::fhir_json_errc> : std::true_type
{};

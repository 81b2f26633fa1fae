#ifndef BBSYNC_SANDBOX_FHIR_JSON_WRITER_HPP
#define BBSYNC_SANDBOX_FHIR_JSON_WRITER_HPP

#include <boost/json/value.hpp>

#include <string>

namespace bbsync::sandbox {

// Serializes a FHIR resource compactly and appends it to `out`. Decimals are written in plain
// notation, not in Boost.JSON's exponent form. The "value" of a Money object (an object with
// a "currency" member) gets exactly two decimals, and other doubles at least one ("42.0").
// Throws only std::bad_alloc.
void write_fhir_json(const boost::json::value& value, std::string& out);

// Returns write_fhir_json's text for `value`. Throws only std::bad_alloc.
std::string to_fhir_json(const boost::json::value& value);

}  // namespace bbsync::sandbox

#endif

#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

// Non-throwing readers for decoded FHIR JSON: each returns nothing when the key is absent or the
// value has another JSON kind, so a malformed payload can never make the mapper throw.
namespace bbsync::mapping {

// Returns the object under `key`, or nullptr. Never throws.
const boost::json::object* find_object(const boost::json::object& parent, std::string_view key) noexcept;

// Returns the array under `key`, or nullptr. Never throws.
const boost::json::array* find_array(const boost::json::object& parent, std::string_view key) noexcept;

// Returns the string under `key`, or nullopt when absent, not a string or empty. Never throws.
std::optional<std::string_view> find_string(const boost::json::object& parent, std::string_view key) noexcept;

// Returns the positive integer under `key` (int64 or uint64 JSON number), or nullopt. Never throws.
std::optional<std::uint64_t> find_positive_integer(
    const boost::json::object& parent, std::string_view key
) noexcept;

// Returns the first coding of a CodeableConcept whose system equals `system`, or nullptr. Never throws.
const boost::json::object* find_coding(
    const boost::json::object* codeable_concept, std::string_view system
) noexcept;

// Returns the code of the first coding with `system`, or nullopt. Never throws.
std::optional<std::string_view> find_code(
    const boost::json::object* codeable_concept, std::string_view system
) noexcept;

}  // namespace bbsync::mapping

#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "daemon/mapping/eob_mapper.hpp"

namespace bbsync::mapping::testing {

// Reads a file below the fixtures folder. Throws std::runtime_error naming the file when it
// cannot be read.
std::string read_fixture_text(std::string_view relative_path);

// Parses a file below the fixtures folder with parse_fhir_json and default limits. Throws
// std::runtime_error naming the file when it cannot be read or parsed.
boost::json::value load_fixture(std::string_view relative_path);

// Maps a fixture EOB for patient "001HC000000TEST". Throws std::runtime_error when map_eob fails.
eob_mapping map_fixture(std::string_view relative_path);

// Returns the mapped resource with the given type and identifier value, or nullptr.
const mapped_resource* find_resource(
    const eob_mapping& mapping, std::string_view type, std::string_view value
);

// Counts the mapped resources of one resource type.
std::size_t count_resources(const eob_mapping& mapping, std::string_view type);

// Returns true when `skipped` holds exactly this path and reason.
bool has_skip(const eob_mapping& mapping, std::string_view path, std::string_view reason);

// Returns the string at a JSON pointer such as "/code/coding/0/code", or "" when absent.
std::string string_at(const boost::json::object& resource, std::string_view pointer);

inline constexpr std::string_view test_patient_id = "001HC000000TEST";

}  // namespace bbsync::mapping::testing

#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <type_traits>

namespace bbsync::mapping {

// Reasons why map_eob rejects an EOB as a whole.
enum class mapping_errc
{
    not_an_object = 1,
    wrong_resource_type,
    missing_id,
    invalid_id,
    missing_patient_id,
};

// Returns the category of mapping_errc, named "bbsync.mapping". Never throws.
const boost::system::error_category& mapping_category() noexcept;

// Wraps a mapping_errc in an error_code of mapping_category(). Never throws.
boost::system::error_code make_error_code(mapping_errc e) noexcept;

}  // namespace bbsync::mapping

template <>
struct boost::system::is_error_code_enum<bbsync::mapping::mapping_errc> : std::true_type
{};

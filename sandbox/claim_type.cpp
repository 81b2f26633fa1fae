#include "sandbox/claim_type.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace bbsync::sandbox {

std::optional<claim_type> parse_claim_type(std::string_view name)
{
    for (std::size_t i = 0; i < claim_type_count; ++i)
    {
        if (boost::algorithm::iequals(name, claim_type_names[i]))
            return static_cast<claim_type>(i);
    }
    return std::nullopt;
}

}  // namespace bbsync::sandbox

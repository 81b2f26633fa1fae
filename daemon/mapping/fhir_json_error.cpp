#include "daemon/mapping/fhir_json_error.hpp"

#include <string>

#include "daemon/mapping/fhir_json.hpp"

namespace bbsync::mapping {
namespace {

class fhir_json_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "bbsync.fhir_json"; }

    std::string message(int ev) const override
    {
        switch (static_cast<fhir_json_errc>(ev))
        {
        case fhir_json_errc::too_large: return "JSON text longer than the max_bytes limit";
        case fhir_json_errc::too_deep: return "JSON nesting deeper than the max_depth limit";
        case fhir_json_errc::invalid_utf8: return "JSON text is not valid UTF-8";
        }
        return "unknown bbsync.fhir_json error " + std::to_string(ev);
    }
};

}  // namespace

const boost::system::error_category& fhir_json_category() noexcept
{
    static const fhir_json_category_impl category;
    return category;
}

boost::system::error_code make_error_code(fhir_json_errc e) noexcept
{
    return {static_cast<int>(e), fhir_json_category()};
}

std::string describe_parse_error(const boost::system::error_code& ec, const parse_limits& limits)
{
    if (ec == fhir_json_errc::too_deep)
    {
        return "JSON nesting deeper than " + std::to_string(limits.max_depth) + " levels";
    }
    if (ec == fhir_json_errc::too_large)
    {
        return "JSON text longer than " + std::to_string(limits.max_bytes) +
               " bytes: raise the limit or request smaller pages";
    }
    if (ec == fhir_json_errc::invalid_utf8)
    {
        return "JSON text is not valid UTF-8: the sender must encode text as UTF-8";
    }
    return "invalid JSON: " + ec.message();
}

}  // namespace bbsync::mapping

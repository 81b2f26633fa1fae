#include "daemon/mapping/mapping_error.hpp"

#include <string>

namespace bbsync::mapping {
namespace {

class mapping_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "bbsync.mapping"; }

    std::string message(int value) const override
    {
        switch (static_cast<mapping_errc>(value))
        {
        case mapping_errc::not_an_object:
            return "EOB is not a JSON object: pass the resource, not the bundle entry or its text";
        case mapping_errc::wrong_resource_type:
            return "resourceType is not ExplanationOfBenefit: filter bundle entries by resourceType first";
        case mapping_errc::missing_id:
            return "EOB has no id string: the payer response is incomplete, fetch the EOB again";
        case mapping_errc::invalid_id:
            return "EOB id is not a FHIR id (1-64 of A-Z a-z 0-9 - .): the payer response is malformed";
        case mapping_errc::missing_patient_id:
            return "mapping context has an empty Health Cloud patient id: look the patient up before mapping";
        }
        return "unknown mapping error " + std::to_string(value);
    }
};

}  // namespace

const boost::system::error_category& mapping_category() noexcept
{
    static const mapping_category_impl category;
    return category;
}

boost::system::error_code make_error_code(mapping_errc e) noexcept
{
    return {static_cast<int>(e), mapping_category()};
}

}  // namespace bbsync::mapping

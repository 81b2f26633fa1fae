#ifndef BBSYNC_SANDBOX_DATACLOUD_SCHEMA_HPP
#define BBSYNC_SANDBOX_DATACLOUD_SCHEMA_HPP

#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace bbsync::sandbox {

// Field types of a Data Cloud Ingestion API schema: OpenAPI `type` plus, for strings, `format`.
enum class datacloud_field_type
{
    text,
    number,
    boolean,
    date,
    date_time,
};

// The objects of one Ingestion API source, each a flat map of field name to type, read from
// the OpenAPI 3.0 YAML that defines the source.
class datacloud_schema
{
public:
    // Reads `components.schemas.<object>.properties.<field>.{type,format}` from the YAML text.
    // Only the YAML subset of block mappings, plain and quoted scalars and comments is
    // understood. Throws std::runtime_error naming the line for any other construct, and for
    // a field type other than string (with no format, `date` or `date-time`), number or boolean.
    static datacloud_schema parse(std::string_view yaml);

    // Returns true when the schema defines this object.
    bool has_object(std::string_view object) const;

    // Checks one record against an object of the schema: a flat JSON object with a non-empty
    // string `id`, no field outside the object and each value of its declared type and format
    // (null is accepted as a blank value). Returns the reason of the first mismatch, or
    // nullopt when the record fits. Throws only std::bad_alloc.
    std::optional<std::string> check_record(std::string_view object, const boost::json::value& record) const;

    // Returns the object names with their field types.
    const std::map<std::string, std::map<std::string, datacloud_field_type>, std::less<>>& objects() const
    {
        return objects_;
    }

private:
    std::map<std::string, std::map<std::string, datacloud_field_type>, std::less<>> objects_;
};

// Returns true for a calendar date written yyyy-MM-dd.
bool is_datacloud_date(std::string_view text);

// Returns true for a date-time written yyyy-MM-ddTHH:mm:ss with an optional fraction of 1 to
// 9 digits and a `Z` or `+hh:mm`/`-hh:mm` offset.
bool is_datacloud_date_time(std::string_view text);

}  // namespace bbsync::sandbox

#endif

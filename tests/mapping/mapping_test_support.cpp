#include "mapping_test_support.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "daemon/mapping/fhir_json.hpp"

namespace bbsync::mapping::testing {

std::string read_fixture_text(std::string_view relative_path)
{
    const std::string path = std::string(BBSYNC_FIXTURES_DIR) + "/" + std::string(relative_path);
    std::ifstream file(path, std::ios::binary);
    if (!file)
    {
        throw std::runtime_error("cannot open fixture " + path);
    }
    std::stringstream text;
    text << file.rdbuf();
    return std::move(text).str();
}

boost::json::value load_fixture(std::string_view relative_path)
{
    auto parsed = parse_fhir_json(read_fixture_text(relative_path));
    if (!parsed)
    {
        throw std::runtime_error(
            "cannot parse fixture " + std::string(relative_path) + ": " + parsed.error().message()
        );
    }
    return std::move(*parsed);
}

eob_mapping map_fixture(std::string_view relative_path)
{
    mapping_context ctx;
    ctx.sf_patient_id = test_patient_id;
    auto mapped = map_eob(load_fixture(relative_path), ctx);
    if (!mapped)
    {
        throw std::runtime_error(
            "map_eob failed for " + std::string(relative_path) + ": " + mapped.error().message()
        );
    }
    return std::move(*mapped);
}

const mapped_resource* find_resource(
    const eob_mapping& mapping, std::string_view type, std::string_view value
)
{
    for (const mapped_resource& resource : mapping.resources)
    {
        if (resource.resource_type == type && resource.identifier_value == value)
        {
            return &resource;
        }
    }
    return nullptr;
}

std::size_t count_resources(const eob_mapping& mapping, std::string_view type)
{
    std::size_t count = 0;
    for (const mapped_resource& resource : mapping.resources)
    {
        if (resource.resource_type == type)
        {
            ++count;
        }
    }
    return count;
}

bool has_skip(const eob_mapping& mapping, std::string_view path, std::string_view reason)
{
    for (const skipped_element& skipped : mapping.skipped)
    {
        if (skipped.path == path && skipped.reason == reason)
        {
            return true;
        }
    }
    return false;
}

std::string string_at(const boost::json::object& resource, std::string_view pointer)
{
    boost::system::error_code ec;
    const boost::json::value root(resource);
    const boost::json::value* found = root.find_pointer(pointer, ec);
    if (found == nullptr || !found->is_string())
    {
        return {};
    }
    return std::string(found->get_string());
}

}  // namespace bbsync::mapping::testing

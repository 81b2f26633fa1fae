#include "daemon/mapping/json_access.hpp"

namespace bbsync::mapping {

const boost::json::object* find_object(const boost::json::object& parent, std::string_view key) noexcept
{
    const boost::json::value* value = parent.if_contains(key);
    return value == nullptr ? nullptr : value->if_object();
}

const boost::json::array* find_array(const boost::json::object& parent, std::string_view key) noexcept
{
    const boost::json::value* value = parent.if_contains(key);
    return value == nullptr ? nullptr : value->if_array();
}

std::optional<std::string_view> find_string(const boost::json::object& parent, std::string_view key) noexcept
{
    const boost::json::value* value = parent.if_contains(key);
    if (value == nullptr)
    {
        return std::nullopt;
    }
    const boost::json::string* text = value->if_string();
    if (text == nullptr || text->empty())
    {
        return std::nullopt;
    }
    return std::string_view(*text);
}

std::optional<std::uint64_t> find_positive_integer(
    const boost::json::object& parent, std::string_view key
) noexcept
{
    const boost::json::value* value = parent.if_contains(key);
    if (value == nullptr)
    {
        return std::nullopt;
    }
    if (const std::int64_t* number = value->if_int64(); number != nullptr && *number > 0)
    {
        return static_cast<std::uint64_t>(*number);
    }
    if (const std::uint64_t* number = value->if_uint64(); number != nullptr && *number > 0)
    {
        return *number;
    }
    return std::nullopt;
}

const boost::json::object* find_coding(
    const boost::json::object* codeable_concept, std::string_view system
) noexcept
{
    if (codeable_concept == nullptr)
    {
        return nullptr;
    }
    const boost::json::array* codings = find_array(*codeable_concept, "coding");
    if (codings == nullptr)
    {
        return nullptr;
    }
    for (const boost::json::value& entry : *codings)
    {
        const boost::json::object* coding = entry.if_object();
        if (coding != nullptr && find_string(*coding, "system") == system)
        {
            return coding;
        }
    }
    return nullptr;
}

std::optional<std::string_view> find_code(
    const boost::json::object* codeable_concept, std::string_view system
) noexcept
{
    const boost::json::object* coding = find_coding(codeable_concept, system);
    return coding == nullptr ? std::nullopt : find_string(*coding, "code");
}

}  // namespace bbsync::mapping

#include "sandbox/datacloud_schema.hpp"

#include <boost/json/value.hpp>

#include <memory>
#include <regex>
#include <stdexcept>
#include <vector>

#include "sandbox/fhir_time.hpp"

namespace bbsync::sandbox {
namespace {

namespace json = boost::json;

// A node of the YAML subset: a scalar, or a block mapping with its keys in file order.
struct yaml_node
{
    std::string scalar;
    std::vector<std::pair<std::string, std::unique_ptr<yaml_node>>> mapping;

    const yaml_node* find(std::string_view key) const
    {
        for (const auto& [name, child] : mapping)
        {
            if (name == key)
                return child.get();
        }
        return nullptr;
    }
};

[[noreturn]] void fail(std::size_t line_number, const std::string& what)
{
    throw std::runtime_error(
        "Data Cloud schema line " + std::to_string(line_number) + ": " + what +
        "; only block mappings with plain or quoted scalars are supported"
    );
}

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

// Decodes a scalar: 'single' (with '' for a quote), "double" (with \" and \\) or plain text,
// which ends at " #".
std::string decode_scalar(std::string_view text, std::size_t line_number)
{
    text = trim(text);
    if (text.starts_with('\''))
    {
        std::string out;
        for (std::size_t i = 1; i < text.size(); ++i)
        {
            if (text[i] != '\'')
                out += text[i];
            else if (i + 1 < text.size() && text[i + 1] == '\'')
                out += text[++i];
            else if (!trim(text.substr(i + 1)).empty() && !trim(text.substr(i + 1)).starts_with('#'))
                fail(line_number, "text after a closing quote");
            else
                return out;
        }
        fail(line_number, "unterminated single-quoted scalar");
    }
    if (text.starts_with('"'))
    {
        std::string out;
        for (std::size_t i = 1; i < text.size(); ++i)
        {
            if (text[i] == '\\' && i + 1 < text.size())
                out += text[++i];
            else if (text[i] != '"')
                out += text[i];
            else
                return out;
        }
        fail(line_number, "unterminated double-quoted scalar");
    }
    if (text.starts_with('[') || text.starts_with('{') || text.starts_with('|') || text.starts_with('>') ||
        text.starts_with('&') || text.starts_with('*') || text.starts_with('!'))
        fail(line_number, "flow collections, block scalars, anchors and tags are not supported");
    if (const auto comment = text.find(" #"); comment != std::string_view::npos)
        text = trim(text.substr(0, comment));
    return std::string(text);
}

std::unique_ptr<yaml_node> parse_yaml(std::string_view yaml)
{
    auto root = std::make_unique<yaml_node>();
    // Open mappings with the indentation of their keys. A mapping opened by `key:` gets its
    // indentation from its first key, which must be deeper than the parent's.
    std::vector<std::pair<int, yaml_node*>> open{{0, root.get()}};
    bool expect_deeper = false;
    std::size_t line_number = 0;
    while (!yaml.empty())
    {
        ++line_number;
        const auto end = yaml.find('\n');
        const std::string_view line = yaml.substr(0, end);
        yaml = end == std::string_view::npos ? std::string_view{} : yaml.substr(end + 1);

        const auto content = trim(line);
        if (content.empty() || content.starts_with('#'))
            continue;
        if (content == "---")
        {
            if (line_number != 1 && !root->mapping.empty())
                fail(line_number, "a second document");
            continue;
        }
        int indent = 0;
        while (static_cast<std::size_t>(indent) < line.size() && line[indent] == ' ')
            ++indent;
        if (line[indent] == '\t')
            fail(line_number, "a tab in the indentation");
        if (content.starts_with("- ") || content == "-")
            fail(line_number, "a block sequence");

        // Find the mapping this key belongs to.
        if (expect_deeper)
        {
            if (indent <= open.back().first)
                fail(line_number, "a key with no value and no nested mapping");
            open.back().first = indent;
            expect_deeper = false;
        }
        while (open.size() > 1 && indent < open.back().first)
            open.pop_back();
        if (indent != open.back().first)
            fail(line_number, "indentation that matches no enclosing mapping");

        const auto colon = content.find(": ");
        const bool opens_mapping = colon == std::string_view::npos && content.ends_with(':');
        if (colon == std::string_view::npos && !opens_mapping)
            fail(line_number, "a line that is not `key: value` or `key:`");
        const auto key =
            decode_scalar(content.substr(0, opens_mapping ? content.size() - 1 : colon), line_number);
        auto& parent = *open.back().second;
        if (parent.find(key) != nullptr)
            fail(line_number, "the duplicate key '" + key + "'");
        parent.mapping.emplace_back(key, std::make_unique<yaml_node>());
        auto* child = parent.mapping.back().second.get();
        const auto value_text = opens_mapping ? std::string_view{} : trim(content.substr(colon + 2));
        if (opens_mapping || value_text.starts_with('#'))
        {
            open.emplace_back(indent, child);
            expect_deeper = true;
        }
        else
            child->scalar = decode_scalar(value_text, line_number);
    }
    return root;
}

datacloud_field_type field_type(
    const std::string& object, const std::string& field, const yaml_node& definition
)
{
    const auto* type = definition.find("type");
    const auto* format = definition.find("format");
    const std::string type_name = type != nullptr ? type->scalar : std::string();
    const std::string format_name = format != nullptr ? format->scalar : std::string();
    const auto where = object + "." + field;
    if (type_name == "string" && format_name.empty())
        return datacloud_field_type::text;
    if (type_name == "string" && format_name == "date")
        return datacloud_field_type::date;
    if (type_name == "string" && format_name == "date-time")
        return datacloud_field_type::date_time;
    if (type_name == "number" && format_name.empty())
        return datacloud_field_type::number;
    if (type_name == "boolean" && format_name.empty())
        return datacloud_field_type::boolean;
    throw std::runtime_error(
        "Data Cloud schema field " + where + " has type '" + type_name + "' and format '" + format_name +
        "'; supported are string (plain, date or date-time), number and boolean"
    );
}

std::string_view type_label(datacloud_field_type type)
{
    switch (type)
    {
    case datacloud_field_type::text: return "a string";
    case datacloud_field_type::number: return "a number";
    case datacloud_field_type::boolean: return "a boolean";
    case datacloud_field_type::date: return "a date yyyy-MM-dd";
    case datacloud_field_type::date_time: return "a date-time yyyy-MM-ddTHH:mm:ss.SSSZ";
    }
    return "unknown";
}

bool value_fits(datacloud_field_type type, const json::value& value)
{
    switch (type)
    {
    case datacloud_field_type::text: return value.is_string();
    case datacloud_field_type::number: return value.is_number();
    case datacloud_field_type::boolean: return value.is_bool();
    case datacloud_field_type::date: return value.is_string() && is_datacloud_date(value.get_string());
    case datacloud_field_type::date_time:
        return value.is_string() && is_datacloud_date_time(value.get_string());
    }
    return false;
}

}  // namespace

bool is_datacloud_date(std::string_view text) { return text.size() == 10 && parse_date(text).has_value(); }

bool is_datacloud_date_time(std::string_view text)
{
    static const std::regex pattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))");
    return std::regex_match(text.begin(), text.end(), pattern) && parse_instant_us(text).has_value();
}

datacloud_schema datacloud_schema::parse(std::string_view yaml)
{
    const auto root = parse_yaml(yaml);
    const auto* components = root->find("components");
    const auto* schemas = components != nullptr ? components->find("schemas") : nullptr;
    if (schemas == nullptr || schemas->mapping.empty())
        throw std::runtime_error("Data Cloud schema has no objects under components.schemas");

    datacloud_schema schema;
    for (const auto& [object, definition] : schemas->mapping)
    {
        const auto* properties = definition->find("properties");
        if (properties == nullptr || properties->mapping.empty())
            throw std::runtime_error("Data Cloud schema object " + object + " has no properties");
        auto& fields = schema.objects_[object];
        for (const auto& [field, field_definition] : properties->mapping)
            fields.emplace(field, field_type(object, field, *field_definition));
        if (!fields.contains("id"))
            throw std::runtime_error("Data Cloud schema object " + object + " has no primary key field id");
    }
    return schema;
}

bool datacloud_schema::has_object(std::string_view object) const
{
    return objects_.find(object) != objects_.end();
}

std::optional<std::string> datacloud_schema::check_record(std::string_view object, const json::value& record)
    const
{
    const auto found = objects_.find(object);
    if (found == objects_.end())
        return "unknown object " + std::string(object.substr(0, 80));
    if (!record.is_object())
        return "record is not a JSON object";
    const auto& fields = found->second;
    for (const auto& member : record.get_object())
    {
        const std::string name(member.key().substr(0, 80));
        const auto field = fields.find(member.key());
        if (field == fields.end())
            return "unknown field " + name;
        const auto& value = member.value();
        if (value.is_object() || value.is_array())
            return "nested value in field " + name;
        if (value.is_null())
            continue;
        if (!value_fits(field->second, value))
            return "field " + name + " is not " + std::string(type_label(field->second));
    }
    const auto* id = record.get_object().if_contains("id");
    if (id == nullptr || id->is_null())
        return "missing id";
    if (!id->is_string() || id->get_string().empty())
        return "id is not a non-empty string";
    return std::nullopt;
}

}  // namespace bbsync::sandbox

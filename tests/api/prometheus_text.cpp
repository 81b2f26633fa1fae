#include "prometheus_text.hpp"

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace bbsync::api_tests {
namespace {

bool is_metric_name(const std::string& name)
{
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())))
    {
        return false;
    }
    for (char c : name)
    {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':')
        {
            return false;
        }
    }
    return true;
}

bool is_label_name(const std::string& name)
{
    return is_metric_name(name) && name.find(':') == std::string::npos && !name.starts_with("__");
}

[[noreturn]] void reject(int number, const std::string& line, const std::string& problem)
{
    throw std::runtime_error("metrics line " + std::to_string(number) + " (" + line + "): " + problem);
}

// The family a sample name belongs to: a histogram's suffixes map to the histogram.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types)
{
    for (const char* suffix : {"_bucket", "_sum", "_count"})
    {
        const std::string end(suffix);
        if (name.size() > end.size() && name.ends_with(end))
        {
            const auto base = name.substr(0, name.size() - end.size());
            auto found = types.find(base);
            if (found != types.end() && (found->second == "histogram" || found->second == "summary"))
            {
                return base;
            }
        }
    }
    return name;
}

double parse_value(const std::string& text, int number, const std::string& line)
{
    if (text == "+Inf")
    {
        return HUGE_VAL;
    }
    if (text == "-Inf")
    {
        return -HUGE_VAL;
    }
    if (text == "NaN")
    {
        return 0;
    }
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size())
    {
        reject(number, line, "value '" + text + "' is not a number");
    }
    return value;
}

}  // namespace

double prometheus_text::value(const std::string& name, const std::map<std::string, std::string>& labels) const
{
    for (const auto& sample : samples)
    {
        if (sample.name == name && sample.labels == labels)
        {
            return sample.value;
        }
    }
    throw std::runtime_error("no sample " + name + " with the requested labels");
}

prometheus_text parse_prometheus_text(const std::string& text)
{
    prometheus_text parsed;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    while (std::getline(lines, line))
    {
        ++number;
        if (line.empty())
        {
            continue;
        }
        if (line.front() == '#')
        {
            std::istringstream words(line);
            std::string hash, keyword, name;
            words >> hash >> keyword >> name;
            if (keyword == "HELP" || keyword == "TYPE")
            {
                if (!is_metric_name(name))
                {
                    reject(number, line, "invalid metric name '" + name + "'");
                }
                std::string rest;
                std::getline(words, rest);
                if (keyword == "TYPE")
                {
                    rest = rest.empty() ? rest : rest.substr(1);
                    if (rest != "counter" && rest != "gauge" && rest != "histogram" && rest != "summary" &&
                        rest != "untyped")
                    {
                        reject(number, line, "unknown type '" + rest + "'");
                    }
                    if (!parsed.types.emplace(name, rest).second)
                    {
                        reject(number, line, "second TYPE for " + name);
                    }
                }
                else if (!parsed.helps.emplace(name, rest).second)
                {
                    reject(number, line, "second HELP for " + name);
                }
            }
            continue;
        }

        prometheus_sample sample;
        std::size_t at = 0;
        while (at < line.size() && line[at] != '{' && line[at] != ' ')
        {
            ++at;
        }
        sample.name = line.substr(0, at);
        if (!is_metric_name(sample.name))
        {
            reject(number, line, "invalid metric name '" + sample.name + "'");
        }
        if (at < line.size() && line[at] == '{')
        {
            ++at;
            while (at < line.size() && line[at] != '}')
            {
                const auto equals = line.find('=', at);
                if (equals == std::string::npos || equals + 1 >= line.size() || line[equals + 1] != '"')
                {
                    reject(number, line, "label without =\"value\"");
                }
                const auto label = line.substr(at, equals - at);
                if (!is_label_name(label))
                {
                    reject(number, line, "invalid label name '" + label + "'");
                }
                std::string value;
                at = equals + 2;
                while (at < line.size() && line[at] != '"')
                {
                    if (line[at] == '\\' && at + 1 < line.size())
                    {
                        const char escaped = line[at + 1];
                        if (escaped != '\\' && escaped != '"' && escaped != 'n')
                        {
                            reject(number, line, "invalid escape in a label value");
                        }
                        value.push_back(escaped == 'n' ? '\n' : escaped);
                        at += 2;
                        continue;
                    }
                    value.push_back(line[at]);
                    ++at;
                }
                if (at >= line.size())
                {
                    reject(number, line, "unterminated label value");
                }
                ++at;
                if (!sample.labels.emplace(label, value).second)
                {
                    reject(number, line, "label " + label + " repeated");
                }
                if (at < line.size() && line[at] == ',')
                {
                    ++at;
                }
                else if (at < line.size() && line[at] != '}')
                {
                    reject(number, line, "expected ',' or '}' after a label");
                }
            }
            if (at >= line.size())
            {
                reject(number, line, "unterminated label set");
            }
            ++at;
        }
        if (at >= line.size() || line[at] != ' ')
        {
            reject(number, line, "expected one space before the value");
        }
        auto rest = line.substr(at + 1);
        // An optional timestamp may follow the value.
        const auto space = rest.find(' ');
        sample.value = parse_value(rest.substr(0, space), number, line);

        const auto family = family_of(sample.name, parsed.types);
        if (!parsed.types.contains(family))
        {
            reject(number, line, "no TYPE line before the samples of " + family);
        }
        if (!parsed.helps.contains(family))
        {
            reject(number, line, "no HELP line before the samples of " + family);
        }
        if (parsed.types.at(family) == "histogram" && family == sample.name)
        {
            reject(number, line, "a histogram sample needs a _bucket, _sum or _count suffix");
        }
        parsed.samples.push_back(std::move(sample));
    }
    return parsed;
}

}  // namespace bbsync::api_tests

#ifndef BBSYNC_TESTS_API_PROMETHEUS_TEXT_HPP
#define BBSYNC_TESTS_API_PROMETHEUS_TEXT_HPP

#include <map>
#include <string>
#include <vector>

namespace bbsync::api_tests {

// One sample line: metric name, labels and value.
struct prometheus_sample
{
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

// A strictly parsed exposition in text format 0.0.4.
struct prometheus_text
{
    std::vector<prometheus_sample> samples;
    // Family name to the TYPE it declared.
    std::map<std::string, std::string> types;
    std::map<std::string, std::string> helps;

    // Returns the value of the one sample with this name and these labels. Throws
    // std::runtime_error when there is none.
    double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};

// Parses `text`, where every line is a comment, blank, or `name{labels} value`. Checks that
// names and label names are valid, that each family has HELP and TYPE before its samples, and
// that a histogram's samples use its _bucket, _sum and _count suffixes. Throws
// std::runtime_error naming the line on the first violation.
prometheus_text parse_prometheus_text(const std::string& text);

}  // namespace bbsync::api_tests

#endif

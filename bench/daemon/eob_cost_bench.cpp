// Measures the CPU cost per EOB of the work the daemon cannot avoid on a payer page: parse the
// page text, map every EOB (map_eob), pack the resources into batch bundles of 30 entries and
// serialize each bundle. This is the floor that bench/run.sh compares the daemon's CPU per EOB
// against. TLS, gzip, HTTP, SQLite and the Salesforce responses are not included.
//
// Usage: eob_cost_bench [--seconds S] PAGE.json...
// Each figure is the median of five runs of at least S seconds (default 1) over all pages.
// The last line is machine-readable: eobs=N floor_us=... fhir_us=...

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/fhir_json.hpp"

namespace {

namespace json = boost::json;
using namespace bbsync::mapping;
using clock_type = std::chrono::steady_clock;

std::string read_file(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
    {
        throw std::runtime_error("cannot open " + path + ": fetch the pages first (bench/run.sh does)");
    }
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// Keeps the optimiser from dropping work whose result is otherwise unused.
volatile std::size_t sink = 0;

// Runs `work` until `seconds` have passed, five times, and returns the median seconds per call.
double median_seconds_per_call(double seconds, const std::function<void()>& work)
{
    std::array<double, 5> runs{};
    for (double& run : runs)
    {
        std::size_t calls = 0;
        const auto start = clock_type::now();
        std::chrono::duration<double> elapsed{};
        do
        {
            work();
            ++calls;
            elapsed = clock_type::now() - start;
        } while (elapsed.count() < seconds);
        run = elapsed.count() / static_cast<double>(calls);
    }
    std::sort(runs.begin(), runs.end());
    return runs[2];
}

// Maps the entries of one parsed search page, batches them and serializes every bundle.
void map_and_serialize(const json::value& page, const mapping_context& context)
{
    std::vector<eob_mapping> mapped;
    for (const json::value& entry : page.at("entry").as_array())
    {
        auto result = map_eob(entry.at("resource"), context);
        if (result)
        {
            mapped.push_back(std::move(*result));
        }
    }
    for (const batch_bundle& batch : build_batches(mapped, 30))
    {
        sink = sink + serialize_fhir_json(batch.bundle).size();
    }
}

}  // namespace

int main(int argc, char** argv)
{
    double seconds = 1.0;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i)
    {
        const std::string argument(argv[i]);
        if (argument == "--seconds" && i + 1 < argc)
        {
            seconds = std::strtod(argv[++i], nullptr);
        }
        else
        {
            files.push_back(argument);
        }
    }
    if (files.empty() || !(seconds > 0))
    {
        std::fprintf(stderr, "usage: %s [--seconds S] PAGE.json...\n", argv[0]);
        return 2;
    }

    std::vector<std::string> pages;
    std::size_t eob_count = 0;
    std::size_t page_bytes = 0;
    mapping_context context;
    context.sf_patient_id = "001SB0000000000001";
    for (const auto& file : files)
    {
        pages.push_back(read_file(file));
        page_bytes += pages.back().size();
        const json::value page = json::parse(pages.back());
        const auto* entries = page.as_object().if_contains("entry");
        if (entries == nullptr)
        {
            throw std::runtime_error(file + " has no entry array: pass EOB search pages");
        }
        for (const json::value& entry : entries->as_array())
        {
            if (!map_eob(entry.at("resource"), context))
            {
                throw std::runtime_error(
                    file + " contains an EOB that map_eob rejects: pass ExplanationOfBenefit search pages of "
                           "bbsync-sandbox"
                );
            }
            ++eob_count;
        }
    }
    std::printf(
        "input: %zu pages, %.3f MB, %zu EOBs\n",
        pages.size(),
        static_cast<double>(page_bytes) / 1e6,
        eob_count
    );

    // One arena per page, reused: a page of 50 EOBs parses into a few MB.
    std::vector<unsigned char> arena(16 * 1024 * 1024);
    const double floor = median_seconds_per_call(seconds, [&] {
        for (const std::string& text : pages)
        {
            json::monotonic_resource resource(arena.data(), arena.size());
            const json::value page = json::parse(text, &resource);
            map_and_serialize(page, context);
        }
    });
    const double fhir = median_seconds_per_call(seconds, [&] {
        for (const std::string& text : pages)
        {
            const auto page = parse_fhir_json(text);
            map_and_serialize(*page, context);
        }
    });
    const double count = static_cast<double>(eob_count);
    std::printf(
        "boost::json::parse (monotonic) + map + batch + serialize: %7.1f us/EOB\n", floor / count * 1e6
    );
    std::printf(
        "parse_fhir_json (default allocator) + map + batch + serialize: %7.1f us/EOB\n", fhir / count * 1e6
    );
    std::printf("eobs=%zu floor_us=%.2f fhir_us=%.2f\n", eob_count, floor / count * 1e6, fhir / count * 1e6);
    return 0;
}

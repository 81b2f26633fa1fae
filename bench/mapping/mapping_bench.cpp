// Measures the EOB mapping on the fixture EOB pages. Each figure is the median of five runs of at
// least --seconds (default 1) each. Usage: mapping_bench [--seconds S]

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/mapping/claim_records.hpp"
#include "daemon/mapping/eob_mapper.hpp"
#include "daemon/mapping/fhir_json.hpp"

namespace {

namespace json = boost::json;
using namespace bbsync::mapping;
using clock_type = std::chrono::steady_clock;

constexpr std::array<const char*, 4> page_files{
    "bluebutton/cms-bb2-node-sdk-eob-pages/eob_p0.json",
    "bluebutton/cms-bb2-node-sdk-eob-pages/eob_p5.json",
    "bluebutton/bb_sample_data_bbuser29999/eob_bundle_bbuser29999.json",
    "bluebutton/bfd-endpoint-responses-v2/eobByPatientIdAll.json",
};

std::string read_file(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
    {
        throw std::runtime_error("cannot open " + path);
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

}  // namespace

int main(int argc, char** argv)
{
    double seconds = 1.0;
    if (argc == 3 && std::string(argv[1]) == "--seconds")
    {
        seconds = std::strtod(argv[2], nullptr);
    }
    else if (argc != 1)
    {
        std::fprintf(stderr, "usage: %s [--seconds S]\n", argv[0]);
        return 2;
    }

    // Inputs: the page texts, and every EOB of them as its own text.
    std::vector<std::string> pages;
    std::vector<std::string> eob_texts;
    std::size_t page_bytes = 0;
    for (const char* file : page_files)
    {
        pages.push_back(read_file(std::string(BBSYNC_FIXTURES_DIR) + "/" + file));
        page_bytes += pages.back().size();
        const json::value page = parse_fhir_json(pages.back()).value();
        for (const json::value& entry : page.at("entry").as_array())
        {
            eob_texts.push_back(serialize_fhir_json(entry.at("resource")));
        }
    }
    std::vector<json::value> eobs;
    std::size_t eob_bytes = 0;
    for (const std::string& text : eob_texts)
    {
        eobs.push_back(parse_fhir_json(text).value());
        eob_bytes += text.size();
    }
    mapping_context ctx;
    ctx.sf_patient_id = "001HC000000BENCH";
    const double page_mb = static_cast<double>(page_bytes) / 1e6;
    const double eob_mb = static_cast<double>(eob_bytes) / 1e6;
    const double eob_count = static_cast<double>(eobs.size());
    std::printf(
        "input: %zu pages, %.3f MB; %zu EOBs, %.3f MB compact\n", pages.size(), page_mb, eobs.size(), eob_mb
    );

    std::vector<unsigned char> arena(4 * 1024 * 1024);
    const double boost_parse = median_seconds_per_call(seconds, [&] {
        for (const std::string& page : pages)
        {
            json::monotonic_resource resource(arena.data(), arena.size());
            boost::system::error_code ec;
            const json::value value = json::parse(page, ec, &resource);
            sink = sink + value.as_object().size();
        }
    });
    std::printf("boost::json::parse, monotonic_resource: %8.1f MB/s\n", page_mb / boost_parse);

    const double fhir_parse_monotonic = median_seconds_per_call(seconds, [&] {
        for (const std::string& page : pages)
        {
            json::monotonic_resource resource(arena.data(), arena.size());
            const auto value = parse_fhir_json(page, {}, &resource);
            sink = sink + value->as_object().size();
        }
    });
    std::printf("parse_fhir_json, monotonic_resource:   %8.1f MB/s\n", page_mb / fhir_parse_monotonic);

    const double fhir_parse = median_seconds_per_call(seconds, [&] {
        for (const std::string& page : pages)
        {
            const auto value = parse_fhir_json(page);
            sink = sink + value->as_object().size();
        }
    });
    std::printf("parse_fhir_json, default allocator:    %8.1f MB/s\n", page_mb / fhir_parse);

    const double map = median_seconds_per_call(seconds, [&] {
        for (const json::value& eob : eobs)
        {
            const auto mapped = map_eob(eob, ctx);
            sink = sink + mapped->resources.size();
        }
    });
    std::printf(
        "map_eob:                                %8.0f EOBs/s, %6.1f MB/s\n", eob_count / map, eob_mb / map
    );

    const double records = median_seconds_per_call(seconds, [&] {
        for (const json::value& eob : eobs)
        {
            const auto mapped = map_claim_records(eob.as_object(), ctx);
            sink = sink + mapped->by_object.size();
        }
    });
    std::printf(
        "map_claim_records:                      %8.0f EOBs/s, %6.1f MB/s\n",
        eob_count / records,
        eob_mb / records
    );

    const double end_to_end = median_seconds_per_call(seconds, [&] {
        for (const std::string& text : eob_texts)
        {
            const auto eob = parse_fhir_json(text);
            const auto mapped = map_eob(*eob, ctx);
            for (const batch_bundle& batch : build_batches(std::span(&*mapped, 1), 30))
            {
                sink = sink + serialize_fhir_json(batch.bundle).size();
            }
        }
    });
    std::printf(
        "parse + map + batch + serialize:        %8.1f us/EOB, %6.1f MB/s\n",
        end_to_end / eob_count * 1e6,
        eob_mb / end_to_end
    );
    return 0;
}

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "daemon/datacloud/ingest_requests.hpp"
#include "daemon/mapping/fhir_json.hpp"

namespace json = boost::json;
using bbsync::max_ingest_body_bytes;
using bbsync::split_ingest_requests;

namespace {

// A flat record of about `size` bytes once serialized.
json::object record(int index, std::size_t size = 300)
{
    json::object fields;
    fields["id"] = "eob-" + std::to_string(index);
    fields["patientId"] = "001SB0000000000001";
    fields["note"] = std::string(size > 80 ? size - 80 : 1, 'x');
    fields["amount"] = 12.5;
    return fields;
}

// A record whose serialized text is exactly `size` bytes: {"id":"xxx..."} has 9 bytes around the id.
json::object record_of_exact_size(std::size_t size)
{
    json::object fields;
    fields["id"] = std::string(size - 9, 'y');
    REQUIRE(bbsync::mapping::serialize_fhir_json(fields).size() == size);
    return fields;
}

// The ids of every record in the bodies, in order. Each body must be {"data":[...]}.
std::vector<std::string> ids_in(const bbsync::ingest_split& split)
{
    std::vector<std::string> ids;
    for (const auto& request : split.requests)
    {
        const auto body = json::parse(request.body).as_object();
        REQUIRE(body.size() == 1);
        const auto& data = body.at("data").as_array();
        CHECK(data.size() == request.record_count);
        for (const auto& item : data)
        {
            ids.emplace_back(item.at("id").as_string());
        }
    }
    return ids;
}

}  // namespace

TEST_CASE("many small records split under the byte limit", "[daemon][datacloud]")
{
    std::vector<json::object> records;
    std::vector<std::string> expected_ids;
    for (int i = 0; i < 2000; ++i)
    {
        records.push_back(record(i));
        expected_ids.push_back("eob-" + std::to_string(i));
    }
    const auto split = split_ingest_requests(records);

    CHECK(split.oversized == 0);
    REQUIRE(split.requests.size() > 1);
    for (const auto& request : split.requests)
    {
        CHECK(request.body.size() < max_ingest_body_bytes);
        CHECK(request.record_count > 0);
    }
    CHECK(ids_in(split) == expected_ids);
    // Packing is greedy: every body but the last is too full to take the next record.
    const auto record_size = bbsync::mapping::serialize_fhir_json(records.front()).size();
    for (std::size_t i = 0; i + 1 < split.requests.size(); ++i)
    {
        CHECK(split.requests[i].body.size() + record_size + 1 >= max_ingest_body_bytes);
    }
}

TEST_CASE("one huge record is counted and not sent", "[daemon][datacloud]")
{
    std::vector<json::object> records = {record(1), record(2, 250000), record(3)};
    const auto split = split_ingest_requests(records);

    CHECK(split.oversized == 1);
    REQUIRE(split.requests.size() == 1);
    CHECK(split.requests.front().record_count == 2);
    CHECK(ids_in(split) == std::vector<std::string>{"eob-1", "eob-3"});
}

TEST_CASE("record at the byte limit is oversized", "[daemon][datacloud]")
{
    // The body adds 11 bytes: {"data":[ and ]}.
    const std::vector<json::object> fits = {record_of_exact_size(max_ingest_body_bytes - 12)};
    const auto fitting = split_ingest_requests(fits);
    CHECK(fitting.oversized == 0);
    REQUIRE(fitting.requests.size() == 1);
    CHECK(fitting.requests.front().body.size() == max_ingest_body_bytes - 1);

    const std::vector<json::object> too_big = {record_of_exact_size(max_ingest_body_bytes - 11)};
    const auto rejected = split_ingest_requests(too_big);
    CHECK(rejected.oversized == 1);
    CHECK(rejected.requests.empty());
}

TEST_CASE("two records that together reach the limit go apart", "[daemon][datacloud]")
{
    // Each body alone is 100,000 bytes; together with a comma they would be 199,990 + 1.
    const std::vector<json::object> records = {
        record_of_exact_size(max_ingest_body_bytes / 2 - 11),
        record_of_exact_size(max_ingest_body_bytes / 2 - 11)};
    const auto split = split_ingest_requests(records);
    CHECK(split.oversized == 0);
    CHECK(split.requests.size() == 1);

    const std::vector<json::object> larger = {
        record_of_exact_size(max_ingest_body_bytes / 2), record_of_exact_size(max_ingest_body_bytes / 2)};
    const auto apart = split_ingest_requests(larger);
    CHECK(apart.oversized == 0);
    CHECK(apart.requests.size() == 2);
}

TEST_CASE("no records give no requests", "[daemon][datacloud]")
{
    const auto split = split_ingest_requests({});
    CHECK(split.requests.empty());
    CHECK(split.oversized == 0);
}

TEST_CASE("kept numbers keep their text in the body", "[daemon][datacloud]")
{
    json::object fields;
    fields["id"] = "eob-1";
    fields["totalPaymentAmount"] = *bbsync::mapping::make_kept_number("10.10");
    fields["lastUpdated"] = nullptr;
    const std::vector<json::object> records = {fields};
    const auto split = split_ingest_requests(records);
    REQUIRE(split.requests.size() == 1);
    CHECK(
        split.requests.front().body ==
        R"({"data":[{"id":"eob-1","totalPaymentAmount":10.10,"lastUpdated":null}]})"
    );
}

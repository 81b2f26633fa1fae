#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "daemon/common/job_id.hpp"

using bbsync::make_job_id;

TEST_CASE("job id is a lower-case version 4 UUID", "[daemon]")
{
    const auto id = make_job_id();
    INFO(id);
    REQUIRE(id.size() == 36);
    for (std::size_t i = 0; i < id.size(); ++i)
    {
        INFO("position " << i);
        if (i == 8 || i == 13 || i == 18 || i == 23)
        {
            CHECK(id[i] == '-');
        }
        else
        {
            CHECK(std::string("0123456789abcdef").find(id[i]) != std::string::npos);
        }
    }
    CHECK(id[14] == '4');
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);
}

TEST_CASE("job ids are unique", "[daemon]")
{
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i)
    {
        ids.insert(make_job_id());
    }
    CHECK(ids.size() == 1000);
}

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "daemon/service/log.hpp"

namespace {

using namespace std::chrono_literals;

struct captured_line
{
    bbsync::log::level severity;
    std::string text;
};

// Routes the logger to a vector and a fake clock for one test, and restores it afterwards.
class log_capture
{
public:
    explicit log_capture(bbsync::log::repeat_limit limit)
    {
        bbsync::log::set_threshold(bbsync::log::level::debug);
        bbsync::log::set_repeat_limit(limit);
        bbsync::log::set_clock([this] { return now_; });
        bbsync::log::set_sink([this](bbsync::log::level severity, std::string_view line) {
            lines_.push_back({severity, std::string(line)});
        });
    }
    ~log_capture()
    {
        bbsync::log::set_sink({});
        bbsync::log::set_clock({});
        bbsync::log::set_repeat_limit({});
        bbsync::log::set_threshold(bbsync::log::level::info);
    }
    log_capture(const log_capture&) = delete;
    log_capture& operator=(const log_capture&) = delete;

    void advance(std::chrono::steady_clock::duration step) { now_ += step; }
    const std::vector<captured_line>& lines() const { return lines_; }

private:
    std::chrono::steady_clock::time_point now_{};
    std::vector<captured_line> lines_;
};

bbsync::log::repeat_limit limit_of(std::size_t burst, std::chrono::steady_clock::duration window)
{
    bbsync::log::repeat_limit limit;
    limit.burst = burst;
    limit.window = window;
    return limit;
}

}  // namespace

TEST_CASE("message template replaces numbers and ids", "[service]")
{
    using bbsync::log::message_template;
    CHECK(message_template("job 41 failed") == "job # failed");
    CHECK(message_template("job 42 failed") == "job # failed");
    CHECK(
        message_template("job 0b7e7c6a-13f4-4c39-9a55-3f1c2d0e9b11: retrying in 1200 ms") ==
        "job #: retrying in # ms"
    );
    CHECK(message_template("failed with payer.http_429") == "failed with payer.http_429");
    CHECK(message_template("failed with payer.http_503") == "failed with payer.http_503");
    CHECK(message_template("patient 001xx000003DGb2AAG") == "patient 001xx000003DGb2AAG");
    CHECK(message_template("a deadbeef word") == "a deadbeef word");
    CHECK(message_template("") == "");
    CHECK(message_template("7") == "#");
}

TEST_CASE("repeated line passes burst then is suppressed", "[service]")
{
    log_capture capture(limit_of(3, 60s));
    for (int i = 0; i < 10; ++i)
    {
        bbsync::log::notice("job", "job " + std::to_string(i) + ": payer request failed; retrying");
        capture.advance(1s);
    }
    REQUIRE(capture.lines().size() == 3);
    CHECK(capture.lines()[0].text == "job: job 0: payer request failed; retrying");
    CHECK(capture.lines()[2].text == "job: job 2: payer request failed; retrying");

    // The window started at 0 s, so a line at 60 s closes it and writes the summary first.
    capture.advance(50s);
    bbsync::log::info("other", "unrelated line");
    REQUIRE(capture.lines().size() == 5);
    CHECK(capture.lines()[3].severity == bbsync::log::level::notice);
    CHECK(
        capture.lines()[3].text ==
        "job: suppressed 7 similar messages in 60 s: \"job #: payer request failed; retrying\""
    );
    CHECK(capture.lines()[4].text == "other: unrelated line");
}

TEST_CASE("new window lets the burst pass again", "[service]")
{
    log_capture capture(limit_of(2, 10s));
    for (int i = 0; i < 4; ++i)
    {
        bbsync::log::warning("mirror", "upsert failed");
    }
    capture.advance(10s);
    for (int i = 0; i < 2; ++i)
    {
        bbsync::log::warning("mirror", "upsert failed");
    }
    REQUIRE(capture.lines().size() == 5);
    CHECK(capture.lines()[0].text == "mirror: upsert failed");
    CHECK(capture.lines()[1].text == "mirror: upsert failed");
    CHECK(capture.lines()[2].text == "mirror: suppressed 2 similar messages in 10 s: \"upsert failed\"");
    CHECK(capture.lines()[3].text == "mirror: upsert failed");
    CHECK(capture.lines()[4].text == "mirror: upsert failed");
}

TEST_CASE("level and component separate repeat counts", "[service]")
{
    log_capture capture(limit_of(1, 60s));
    bbsync::log::warning("job", "request failed");
    bbsync::log::error("job", "request failed");
    bbsync::log::warning("mirror", "request failed");
    bbsync::log::warning("job", "request failed with payer.http_429");
    bbsync::log::warning("job", "request failed with payer.http_503");
    CHECK(capture.lines().size() == 5);

    bbsync::log::warning("job", "request failed");
    CHECK(capture.lines().size() == 5);
}

TEST_CASE("flush writes summaries of open windows", "[service]")
{
    log_capture capture(limit_of(1, 60s));
    bbsync::log::error("job", "job 1 failed");
    bbsync::log::error("job", "job 2 failed");
    bbsync::log::error("job", "job 3 failed");

    bbsync::log::flush_suppressed(false);
    REQUIRE(capture.lines().size() == 1);

    bbsync::log::flush_suppressed(true);
    REQUIRE(capture.lines().size() == 2);
    CHECK(capture.lines()[1].severity == bbsync::log::level::err);
    CHECK(capture.lines()[1].text == "job: suppressed 2 similar messages in 60 s: \"job # failed\"");

    // The flushed window is gone, so the next line starts a new one and passes.
    bbsync::log::error("job", "job 4 failed");
    CHECK(capture.lines().size() == 3);
}

TEST_CASE("window without repeats writes no summary", "[service]")
{
    log_capture capture(limit_of(5, 1s));
    bbsync::log::notice("store", "applied 1 migration(s)");
    capture.advance(2s);
    bbsync::log::flush_suppressed(true);
    REQUIRE(capture.lines().size() == 1);
    CHECK(capture.lines()[0].text == "store: applied 1 migration(s)");
}

TEST_CASE("info lines pass unlimited by default", "[service]")
{
    log_capture capture(limit_of(2, 60s));
    for (int i = 0; i < 30; ++i)
    {
        bbsync::log::info("job", "job " + std::to_string(i) + ": Completed");
    }
    bbsync::log::flush_suppressed(true);
    CHECK(capture.lines().size() == 30);
}

TEST_CASE("least severe level can include info", "[service]")
{
    auto limit = limit_of(2, 60s);
    limit.least_severe = bbsync::log::level::info;
    log_capture capture(limit);
    for (int i = 0; i < 5; ++i)
    {
        bbsync::log::info("job", "job " + std::to_string(i) + ": Completed");
    }
    bbsync::log::flush_suppressed(true);
    REQUIRE(capture.lines().size() == 3);
    CHECK(capture.lines()[2].text == "job: suppressed 3 similar messages in 60 s: \"job #: Completed\"");
}

TEST_CASE("burst of zero turns the limit off", "[service]")
{
    log_capture capture(limit_of(0, 60s));
    for (int i = 0; i < 50; ++i)
    {
        bbsync::log::warning("job", "same line");
    }
    CHECK(capture.lines().size() == 50);
}

TEST_CASE("lines below threshold are not counted", "[service]")
{
    log_capture capture(limit_of(1, 60s));
    bbsync::log::set_threshold(bbsync::log::level::info);
    for (int i = 0; i < 5; ++i)
    {
        bbsync::log::debug("job", "detail");
    }
    bbsync::log::flush_suppressed(true);
    CHECK(capture.lines().empty());
}

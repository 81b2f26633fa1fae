#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/mapping/fhir_json.hpp"
#include "payer_fixture.hpp"
#include "streaming_tls_server.hpp"
#include "test_pki.hpp"
#include "tls_test_server.hpp"

namespace json = boost::json;
using bbsync::test::fixture_access_token;
using bbsync::test::payer_fixture;
using bbsync::test::recorded_request;
using bbsync::test::scripted_response;
using bbsync::test::streaming_tls_server;
using bbsync::test::test_pki;
using bbsync::test::tls_test_server;

namespace {

// The payer client's response body limit (request_options::body_limit default).
constexpr std::size_t body_limit = 8 * 1024 * 1024;
// Memory a request may use besides its body: the connection's read buffer, TLS records and
// the parser. Measured at under 100 KiB on g++ 12 and Boost 1.81.
constexpr std::size_t connection_overhead = 1024 * 1024;
constexpr std::size_t sixty_four_mib = 64 * 1024 * 1024;
const std::string page_target = "/v2/fhir/ExplanationOfBenefit?patient=-20140000008325&_count=50";

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// Reads a "Name:   N kB" line of /proc/self/status, in bytes.
std::size_t status_bytes(const std::string& name)
{
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
    {
        if (line.starts_with(name + ":"))
        {
            return std::stoull(line.substr(name.size() + 1)) * 1024;
        }
    }
    throw std::runtime_error("/proc/self/status has no " + name + " line");
}

// Measures how far the resident set rises above its current size from now on: resets the
// peak (VmHWM) through /proc/self/clear_refs, which Linux allows a process for itself.
class peak_rss_probe
{
public:
    peak_rss_probe()
    {
        std::ofstream("/proc/self/clear_refs") << "5";
        start_ = status_bytes("VmRSS");
    }

    std::size_t growth() const
    {
        const auto peak = status_bytes("VmHWM");
        return peak > start_ ? peak - start_ : 0;
    }

private:
    std::size_t start_ = 0;
};

// Returns the peak RSS growth a test allows. AddressSanitizer keeps freed blocks in quarantine
// and adds shadow memory, so its builds measure no meaningful bound and allow any growth.
std::size_t rss_allowance(std::size_t bytes)
{
#if defined(__SANITIZE_ADDRESS__)
    (void)bytes;
    return std::numeric_limits<std::size_t>::max();
#else
    return bytes;
#endif
}

scripted_response fhir_reply(std::string body)
{
    scripted_response reply;
    reply.headers = {{"Content-Type", "application/fhir+json"}};
    reply.body = std::move(body);
    return reply;
}

// Serves `reply` to every request from a trusted loopback server and fetches one page.
bbsync::outcome<json::value> fetch_reply(const scripted_response& reply)
{
    payer_fixture fixture("127.0.0.1");
    tls_test_server server(
        fixture.context.get_executor(), bbsync::test::make_tls_server_context(test_pki::shared().valid())
    );
    server.respond_with([reply](const recorded_request&) { return reply; });
    fixture.point_at(server.port());
    return fixture.get(page_target);
}

// Compresses `size` zero bytes into a gzip member.
std::string gzip_zeros(std::size_t size)
{
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    {
        throw std::runtime_error("deflateInit2 failed");
    }
    const std::vector<unsigned char> zeros(1024 * 1024, 0);
    std::string out;
    std::vector<unsigned char> buffer(64 * 1024);
    std::size_t remaining = size;
    int flush = Z_NO_FLUSH;
    do
    {
        const auto chunk = std::min(remaining, zeros.size());
        remaining -= chunk;
        flush = remaining == 0 ? Z_FINISH : Z_NO_FLUSH;
        stream.next_in = const_cast<unsigned char*>(zeros.data());
        stream.avail_in = static_cast<uInt>(chunk);
        do
        {
            stream.next_out = buffer.data();
            stream.avail_out = static_cast<uInt>(buffer.size());
            deflate(&stream, flush);
            out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - stream.avail_out);
        } while (stream.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&stream);
    return out;
}

}  // namespace

TEST_CASE("payer page over body limit rejected", "[security][hostile]")
{
    const bool declared = GENERATE(true, false);
    // A declared Content-Length fails at the header. An undeclared length (body until the
    // connection closes) fails once the limit is read.
    const std::string head = declared ? "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
                                        "Content-Length: " +
                                            std::to_string(sixty_four_mib) + "\r\n\r\n"
                                      : "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
                                        "Connection: close\r\n\r\n";
    payer_fixture fixture("127.0.0.1");
    streaming_tls_server server(
        fixture.context.get_executor(),
        bbsync::test::make_tls_server_context(test_pki::shared().valid()),
        head,
        sixty_four_mib
    );
    fixture.point_at(server.port());

    peak_rss_probe probe;
    auto result = fixture.get(page_target);
    const auto growth = probe.growth();

    INFO("declared length: " << declared << "; peak RSS growth: " << growth << " bytes");
    REQUIRE(result.has_error());
    CHECK(result.error().error_class == "payer.too_large");
    CHECK(contains(result.error().message, "body limit"));
    CHECK_FALSE(result.error().retryable);
    CHECK(server.requests() == 1);
    CHECK(server.body_bytes_sent() < sixty_four_mib);
    CHECK(growth <= rss_allowance(body_limit + connection_overhead));
}

TEST_CASE("gzip bomb stops at the body limit", "[security][hostile]")
{
    // 64 MiB of zeros compress to about 64 KiB; inflating stops at the decoded body limit.
    const auto bomb = gzip_zeros(sixty_four_mib);
    REQUIRE(bomb.size() < 1024 * 1024);
    auto reply = fhir_reply(bomb);
    reply.headers.emplace_back("Content-Encoding", "gzip");

    peak_rss_probe probe;
    auto result = fetch_reply(reply);
    const auto growth = probe.growth();

    INFO("peak RSS growth: " << growth << " bytes");
    REQUIRE(result.has_error());
    INFO(result.error().message);
    CHECK(result.error().error_class == "payer.too_large");
    CHECK_FALSE(result.error().retryable);
    // The decode buffer may come from fresh heap pages while earlier freed ones stay resident,
    // so the bound is twice the limit: far below the 64 MiB the body would inflate to.
    CHECK(growth <= rss_allowance(2 * body_limit + connection_overhead));
}

TEST_CASE("an unknown content encoding is refused by name", "[security][hostile]")
{
    auto reply = fhir_reply(R"({"resourceType":"Bundle"})");
    reply.headers.emplace_back("Content-Encoding", "br");

    auto result = fetch_reply(reply);

    REQUIRE(result.has_error());
    CHECK(result.error().error_class == "payer.bad_encoding");
    CHECK(contains(result.error().message, "Content-Encoding"));
}

TEST_CASE("deeply nested page rejected", "[security][hostile]")
{
    std::string body = R"({"resourceType":"Bundle","entry":)";
    for (int level = 0; level < 40; ++level)
    {
        body += "[";
    }
    for (int level = 0; level < 40; ++level)
    {
        body += "]";
    }
    body += "}";

    auto result = fetch_reply(fhir_reply(body));

    REQUIRE(result.has_error());
    INFO(result.error().message);
    CHECK(result.error().error_class == "payer.bad_json");
    CHECK(contains(result.error().message, "nesting deeper than 32 levels"));
}

TEST_CASE("invalid UTF-8 page rejected", "[security][hostile]")
{
    const std::vector<std::string> bad_strings = {
        "\xC3\x28",          // truncated two-byte sequence
        "\xC0\xAF",          // overlong '/'
        "\xED\xA0\x80",      // UTF-16 surrogate
        "\xF4\x90\x80\x80",  // above U+10FFFF
        "\xFF",
    };
    for (const auto& bad : bad_strings)
    {
        auto result = fetch_reply(fhir_reply(R"({"resourceType":"Bundle","id":")" + bad + R"("})"));

        REQUIRE(result.has_error());
        INFO(result.error().message);
        CHECK(result.error().error_class == "payer.bad_json");
        CHECK(contains(result.error().message, "not valid UTF-8"));
    }
}

TEST_CASE("huge numbers keep their exact text", "[security][hostile]")
{
    const std::string long_integer(1000, '9');
    const std::string body = R"({"resourceType":"Bundle","total":1e999999,"big":)" + long_integer +
                             R"(,"tiny":-1e-999999,"exact":10.10})";

    auto result = fetch_reply(fhir_reply(body));

    REQUIRE(result.has_value());
    const auto& bundle = result->as_object();
    CHECK(bbsync::mapping::kept_number_text(bundle.at("total")) == std::string_view("1e999999"));
    CHECK(bbsync::mapping::kept_number_text(bundle.at("big")) == std::string_view(long_integer));
    CHECK(bbsync::mapping::kept_number_text(bundle.at("tiny")) == std::string_view("-1e-999999"));
    CHECK(bbsync::mapping::kept_number_text(bundle.at("exact")) == std::string_view("10.10"));
}

TEST_CASE("oversized response headers rejected", "[security][hostile]")
{
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nX-Filler: " + std::string(64 * 1024, 'a') +
        "\r\nContent-Length: 2\r\n\r\n";
    payer_fixture fixture("127.0.0.1");
    streaming_tls_server server(
        fixture.context.get_executor(),
        bbsync::test::make_tls_server_context(test_pki::shared().valid()),
        head,
        2
    );
    fixture.point_at(server.port());

    auto result = fixture.get(page_target);

    REQUIRE(result.has_error());
    INFO(result.error().message);
    CHECK(result.error().error_class == "payer.too_large");
    CHECK(contains(result.error().message, "header limit"));
}

TEST_CASE("foreign next links rejected before connecting", "[security][hostile]")
{
    payer_fixture fixture("127.0.0.1");
    const auto server_tls = bbsync::test::make_tls_server_context(test_pki::shared().valid());
    tls_test_server payer_server(fixture.context.get_executor(), server_tls);
    tls_test_server other_server(fixture.context.get_executor(), server_tls);
    const auto payer_port = std::to_string(payer_server.port());
    const auto other_port = std::to_string(other_server.port());

    struct link_case
    {
        std::string url;
        std::string reason;
    };
    const std::vector<link_case> cases = {
        {"https://127.0.0.1:" + other_port + "/v2/fhir/ExplanationOfBenefit?startIndex=10",
         "points to 127.0.0.1:" + other_port},
        {"http://127.0.0.1:" + payer_port + "/v2/fhir/ExplanationOfBenefit?startIndex=10",
         "scheme http instead of https"},
        {"https://localhost:" + payer_port + "/v2/fhir/ExplanationOfBenefit?startIndex=10",
         "points to localhost:" + payer_port},
        {"//127.0.0.1:" + other_port + "/v2/fhir/ExplanationOfBenefit", "not an absolute URL"},
    };
    fixture.point_at(payer_server.port());

    for (const auto& link : cases)
    {
        json::object bundle{
            {"resourceType", "Bundle"},
            {"link", json::array{json::object{{"relation", "next"}, {"url", link.url}}}},
        };
        payer_server.respond_with([text = json::serialize(bundle)](const recorded_request&) {
            return fhir_reply(text);
        });

        // The same two steps as the EOB walk of a sync job: fetch a page, then vet its next link.
        auto page = fixture.get(page_target);
        REQUIRE(page.has_value());
        const auto& next = page->at("link").at(0).at("url").as_string();
        auto target = bbsync::next_link_target(fixture.settings, std::string(next));

        INFO(link.url);
        REQUIRE(target.has_error());
        INFO(target.error().message);
        CHECK(target.error().error_class == "payer.foreign_next_link");
        CHECK(contains(target.error().message, link.reason));
        CHECK_FALSE(contains(target.error().message, "startIndex"));
    }

    CHECK(payer_server.requests().size() == cases.size());
    for (const auto& request : payer_server.requests())
    {
        CHECK(request.header("Authorization") == std::string("Bearer ") + fixture_access_token);
    }
    CHECK(other_server.accepted() == 0);
    CHECK(other_server.requests().empty());
}

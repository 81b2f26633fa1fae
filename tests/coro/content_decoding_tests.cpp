#include <boost/beast/http/error.hpp>

#include <catch2/catch.hpp>
#include <zlib.h>

#include <stdexcept>
#include <string>

#include "coro/content_decoding.hpp"

using bbsync::coro::content_error;
using bbsync::coro::decode_content;

namespace {

std::string gzip(const std::string& data)
{
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    {
        throw std::runtime_error("deflateInit2 failed");
    }
    std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    const int status = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (status != Z_STREAM_END)
    {
        throw std::runtime_error("deflate did not finish");
    }
    return out;
}

}  // namespace

TEST_CASE("gzip and identity bodies decode", "[coro]")
{
    const std::string text = R"({"resourceType":"Bundle","total":10.10})";

    auto body = gzip(text);
    CHECK_FALSE(decode_content("gzip", body, 1024));
    CHECK(body == text);

    body = text;
    CHECK_FALSE(decode_content("", body, 1024));
    CHECK_FALSE(decode_content(" Identity ", body, 1024));
    CHECK(body == text);
}

TEST_CASE("gzip bomb stops at the limit", "[coro]")
{
    // 64 MiB of zeros compress to about 64 KiB.
    auto body = gzip(std::string(64 * 1024 * 1024, '\0'));
    REQUIRE(body.size() < 256 * 1024);

    const auto ec = decode_content("gzip", body, 8 * 1024 * 1024);
    CHECK(ec == boost::beast::http::error::body_limit);
}

TEST_CASE("body at the limit decodes", "[coro]")
{
    const std::string text(100'000, 'a');
    auto body = gzip(text);
    CHECK_FALSE(decode_content("gzip", body, text.size()));
    CHECK(body.size() == text.size());

    body = gzip(text);
    CHECK(decode_content("gzip", body, text.size() - 1) == boost::beast::http::error::body_limit);
}

TEST_CASE("damaged gzip data is corrupt", "[coro]")
{
    const auto whole = gzip(std::string(50'000, 'x') + "end");

    auto truncated = whole.substr(0, whole.size() / 2);
    CHECK(decode_content("gzip", truncated, 1 << 20) == content_error::corrupt_gzip);

    std::string not_gzip = "{\"plain\": true}";
    CHECK(decode_content("gzip", not_gzip, 1 << 20) == content_error::corrupt_gzip);

    auto trailing = whole + "junk";
    CHECK(decode_content("gzip", trailing, 1 << 20) == content_error::corrupt_gzip);

    auto bad_checksum = whole;
    bad_checksum[bad_checksum.size() - 6] ^= 0x55;
    CHECK(decode_content("gzip", bad_checksum, 1 << 20) == content_error::corrupt_gzip);
}

TEST_CASE("unsupported encodings are rejected", "[coro]")
{
    std::string body = "data";
    const auto ec = decode_content("br", body, 1024);
    CHECK(ec == content_error::unsupported_encoding);
    CHECK(ec.message().find("Content-Encoding") != std::string::npos);
}

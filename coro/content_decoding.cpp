#include "coro/content_decoding.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/algorithm/string/trim.hpp>
#include <boost/beast/http/error.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>

namespace bbsync::coro {

namespace {

class content_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "content"; }

    std::string message(int value) const override
    {
        switch (static_cast<content_error>(value))
        {
        case content_error::unsupported_encoding:
            return "the response uses a Content-Encoding other than identity or gzip";
        case content_error::corrupt_gzip: return "the gzip response body is corrupt or cut short";
        }
        return "unknown content decoding error";
    }
};

// Inflates a whole gzip member into at most `limit` bytes.
boost::system::error_code gunzip(std::string& body, std::size_t limit)
{
    z_stream stream{};
    // 16 + MAX_WBITS: expect a gzip header and trailer, not raw zlib.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
    {
        throw std::bad_alloc();
    }

    // The gzip trailer ends with the decoded size modulo 2^32. It is only a hint from the
    // sender, but reserving it (never more than the limit) keeps a growing string from holding
    // two copies near the limit.
    std::string output;
    if (body.size() >= 18)
    {
        const auto* tail = reinterpret_cast<const unsigned char*>(body.data() + body.size() - 4);
        const std::size_t hinted = tail[0] | (tail[1] << 8) | (tail[2] << 16) | (std::size_t(tail[3]) << 24);
        output.reserve(std::min(hinted, limit));
    }
    std::array<char, 16 * 1024> chunk{};
    stream.next_in = reinterpret_cast<Bytef*>(body.data());
    stream.avail_in = static_cast<uInt>(body.size());

    int status = Z_OK;
    boost::system::error_code ec;
    while (status != Z_STREAM_END)
    {
        stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
        stream.avail_out = static_cast<uInt>(chunk.size());
        status = inflate(&stream, Z_NO_FLUSH);
        if (status == Z_MEM_ERROR)
        {
            inflateEnd(&stream);
            throw std::bad_alloc();
        }
        if (status != Z_OK && status != Z_STREAM_END)
        {
            // Z_BUF_ERROR here means the input ended before the gzip trailer.
            ec = content_error::corrupt_gzip;
            break;
        }
        const auto produced = chunk.size() - stream.avail_out;
        if (output.size() + produced > limit)
        {
            ec = boost::beast::http::error::body_limit;
            break;
        }
        output.append(chunk.data(), produced);
        if (status == Z_OK && stream.avail_in == 0 && produced == 0)
        {
            ec = content_error::corrupt_gzip;
            break;
        }
    }
    if (!ec && stream.avail_in != 0)
    {
        // Bytes after the first gzip member are treated as damage rather than decoded as
        // further members.
        ec = content_error::corrupt_gzip;
    }
    inflateEnd(&stream);
    if (!ec)
    {
        body = std::move(output);
    }
    return ec;
}

}  // namespace

const boost::system::error_category& content_category() noexcept
{
    static const content_category_impl category;
    return category;
}

boost::system::error_code make_error_code(content_error e) noexcept
{
    return {static_cast<int>(e), content_category()};
}

boost::system::error_code decode_content(std::string_view encoding, std::string& body, std::size_t limit)
{
    const auto coding = boost::algorithm::trim_copy(std::string(encoding));
    if (coding.empty() || boost::algorithm::iequals(coding, "identity"))
    {
        return {};
    }
    if (boost::algorithm::iequals(coding, "gzip") || boost::algorithm::iequals(coding, "x-gzip"))
    {
        return gunzip(body, limit);
    }
    return content_error::unsupported_encoding;
}

}  // namespace bbsync::coro

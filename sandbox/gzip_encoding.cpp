#include "sandbox/gzip_encoding.hpp"

#include <boost/algorithm/string/trim.hpp>
#include <boost/beast/http/field.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace bbsync::sandbox {
namespace {

namespace http = boost::beast::http;

// windowBits 15 plus 16 selects the gzip wrapper in zlib's deflateInit2.
constexpr int gzip_window_bits = 15 + 16;
constexpr int memory_level = 8;

}  // namespace

bool accepts_gzip(std::string_view accept_encoding)
{
    std::size_t start = 0;
    while (start <= accept_encoding.size())
    {
        const auto end = std::min(accept_encoding.find(',', start), accept_encoding.size());
        std::string item(accept_encoding.substr(start, end - start));
        start = end + 1;
        boost::algorithm::trim(item);
        const auto semicolon = item.find(';');
        std::string coding = item.substr(0, semicolon);
        boost::algorithm::trim(coding);
        if (coding != "gzip" && coding != "*")
            continue;
        if (semicolon == std::string::npos)
            return true;
        std::string parameter = item.substr(semicolon + 1);
        boost::algorithm::trim(parameter);
        if (parameter.starts_with("q=") && std::strtod(parameter.c_str() + 2, nullptr) == 0.0)
            continue;
        return true;
    }
    return false;
}

std::string gzip_compress(std::string_view data)
{
    // Level 1, as front-end web servers usually compress: the sandbox must not become the
    // bottleneck of benchmarks.
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, gzip_window_bits, memory_level, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        throw std::runtime_error("zlib deflateInit2 failed");
    std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    const int result = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (result != Z_STREAM_END)
        throw std::runtime_error("zlib deflate did not finish: code " + std::to_string(result));
    return out;
}

bool apply_gzip_encoding(const http_request& request, http_response& response)
{
    const auto accept = request.find(http::field::accept_encoding);
    if (accept == request.end() || !accepts_gzip(accept->value()))
        return false;
    if (response.body().size() < gzip_min_body_bytes ||
        response.find(http::field::content_encoding) != response.end())
        return false;
    response.body() = gzip_compress(response.body());
    response.set(http::field::content_encoding, "gzip");
    response.set(http::field::vary, "Accept-Encoding");
    response.prepare_payload();
    return true;
}

}  // namespace bbsync::sandbox

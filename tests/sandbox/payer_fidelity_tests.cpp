#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <chrono>
#include <string>
#include <thread>

#include "sandbox_process.hpp"

namespace {

using bbsync::tests::sandbox_process;

const std::string eob_page = "/v2/fhir/ExplanationOfBenefit?patient=-19990000000001&_count=10";

// Decompresses a gzip body; returns an empty string when it is not valid gzip.
std::string gunzip(const std::string& data)
{
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 16) != Z_OK)
        return {};
    std::string out;
    char chunk[65536];
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    int result = Z_OK;
    while (result == Z_OK)
    {
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof chunk;
        result = inflate(&stream, Z_NO_FLUSH);
        out.append(chunk, sizeof chunk - stream.avail_out);
    }
    inflateEnd(&stream);
    return result == Z_STREAM_END ? out : std::string();
}

}  // namespace

TEST_CASE("payer access token expires after its lifetime", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "2", "--access-token-lifetime", "1"});
    const auto token = sandbox.payer_access_token(0);
    CHECK(sandbox.get_with_token("payer", eob_page, token).status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const auto expired = sandbox.get_with_token("payer", eob_page, token);
    CHECK(expired.status == 401);
    CHECK(expired.json().at("detail").as_string() == "Authentication credentials were not provided.");
    CHECK(sandbox.get_with_token("payer", eob_page, sandbox.payer_access_token(0)).status == 200);
}

TEST_CASE("payer gzips large bodies on request", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "12"});
    const auto token = sandbox.payer_access_token(0);
    const auto plain = sandbox.get_with_token("payer", eob_page, token);
    REQUIRE(plain.status == 200);
    CHECK(plain.header("Content-Encoding").empty());

    const auto compressed = sandbox.request(
        "payer",
        "GET",
        eob_page,
        {},
        {{"Authorization", "Bearer " + token}, {"Accept-Encoding", "br, gzip;q=0.8"}}
    );
    REQUIRE(compressed.status == 200);
    CHECK(compressed.header("Content-Encoding") == "gzip");
    CHECK(compressed.header("Vary") == "Accept-Encoding");
    CHECK(compressed.body.size() < plain.body.size());
    // Bundle id and meta.lastUpdated differ per response, so compare the entries.
    const auto decoded = boost::json::parse(gunzip(compressed.body));
    CHECK(decoded.at("entry") == plain.json().at("entry"));

    const auto refused = sandbox.request(
        "payer", "GET", eob_page, {}, {{"Authorization", "Bearer " + token}, {"Accept-Encoding", "gzip;q=0"}}
    );
    CHECK(refused.header("Content-Encoding").empty());

    // Bodies under 1 KB stay uncompressed.
    const auto small = sandbox.request("payer", "GET", eob_page, {}, {{"Accept-Encoding", "gzip"}});
    CHECK(small.status == 401);
    CHECK(small.header("Content-Encoding").empty());
}

TEST_CASE("payer serves metadata and userinfo", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto metadata = sandbox.request("payer", "GET", "/v2/fhir/metadata");
    REQUIRE(metadata.status == 200);
    const auto statement = metadata.json();
    CHECK(statement.at("resourceType").as_string() == "CapabilityStatement");
    CHECK(statement.at("fhirVersion").as_string() == "4.0.1");
    CHECK(statement.at("rest").at(0).at("resource").as_array().size() == 3);

    CHECK(sandbox.request("payer", "GET", "/v2/connect/userinfo").status == 401);
    const auto token = sandbox.payer_access_token(0);
    const auto userinfo = sandbox.get_with_token("payer", "/v2/connect/userinfo", token);
    REQUIRE(userinfo.status == 200);
    CHECK(userinfo.json().at("sub").as_string() == "-19990000000001");
    CHECK(userinfo.json().at("patient").as_string() == "-19990000000001");
}

TEST_CASE("fractional expires_in is a decimal", "[sandbox]")
{
    sandbox_process sandbox(
        {"--patients", "1", "--eobs-per-patient", "1", "--expires-in-format", "fractional"}
    );
    const auto result = sandbox.payer_token(sandbox.patients().at(0).at("refresh_token").as_string().c_str());
    REQUIRE(result.status == 200);
    const auto expires_in = result.json().at("expires_in");
    REQUIRE(expires_in.is_double());
    CHECK(expires_in.as_double() == 3599.5);

    sandbox_process integer({"--patients", "1", "--eobs-per-patient", "1"});
    const auto plain = integer.payer_token(integer.patients().at(0).at("refresh_token").as_string().c_str());
    CHECK(plain.json().at("expires_in").is_int64());
}

namespace {

// Returns the RFC 7636 S256 challenge of a verifier.
std::string s256(const std::string& verifier)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
    unsigned char encoded[64];
    const int length = EVP_EncodeBlock(encoded, digest, SHA256_DIGEST_LENGTH);
    std::string text(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(length));
    for (auto& c : text)
    {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    while (text.back() == '=')
        text.pop_back();
    return text;
}

bbsync::tests::http_result exchange(
    const sandbox_process& sandbox, const std::string& code, const std::string& verifier
)
{
    return sandbox.request(
        "payer",
        "POST",
        "/v2/o/token/",
        "grant_type=authorization_code&code=" + code + "&code_verifier=" + verifier +
            "&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&client_id=bbsync-sandbox-app&client_secret="
            "sandbox-"
            "payer-secret",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
}

}  // namespace

TEST_CASE("PKCE code exchange checks the verifier", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "2", "--eobs-per-patient", "1"});
    const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-sandbox";
    const auto issue_code = [&] {
        const auto result = sandbox.request(
            "payer",
            "POST",
            "/_sandbox/authorization_code?patient=-19990000000002&code_challenge=" + s256(verifier)
        );
        REQUIRE(result.status == 200);
        CHECK(result.json().at("expires_in").as_int64() == 60);
        return std::string(result.json().at("code").as_string());
    };

    const auto wrong_code = issue_code();
    const auto wrong = exchange(sandbox, wrong_code, std::string(verifier).replace(0, 1, "X"));
    CHECK(wrong.status == 400);
    CHECK(wrong.json().at("error").as_string() == "invalid_grant");
    CHECK(exchange(sandbox, wrong_code, verifier).status == 400);

    const auto code = issue_code();
    const auto right = exchange(sandbox, code, verifier);
    REQUIRE(right.status == 200);
    const auto body = right.json();
    CHECK(body.at("patient").as_string() == "-19990000000002");
    const std::string access(body.at("access_token").as_string());
    CHECK(sandbox.get_with_token("payer", "/v2/connect/userinfo", access).status == 200);
    CHECK(sandbox.payer_token(std::string(body.at("refresh_token").as_string())).status == 200);

    CHECK(exchange(sandbox, code, verifier).status == 400);
    CHECK(
        sandbox
            .request(
                "payer", "POST", "/_sandbox/authorization_code?patient=-19990000000002&code_challenge=short"
            )
            .status == 400
    );
}

TEST_CASE("revoked grant gets 403 on refresh", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const auto access = sandbox.payer_access_token(0);
    REQUIRE(sandbox.request("payer", "POST", "/_sandbox/revoke?patient=-19990000000001").status == 200);
    CHECK(sandbox.get_with_token("payer", eob_page, access).status == 401);
    const auto refresh =
        sandbox.payer_token(sandbox.patients().at(0).at("refresh_token").as_string().c_str());
    CHECK(refresh.status == 400);

    // The live refresh token, not the rotated one, shows the revoked grant.
    const auto renewed = sandbox.request("payer", "POST", "/_sandbox/consent?patient=-19990000000001");
    const std::string live(renewed.json().at("refresh_token").as_string());
    sandbox.request("payer", "POST", "/_sandbox/revoke?patient=-19990000000001");
    const auto revoked = sandbox.payer_token(live);
    CHECK(revoked.status == 403);
    CHECK(revoked.json().at("error").as_string() == "invalid_grant");
    CHECK(std::string(revoked.json().at("error_description").as_string())
              .starts_with("User access cannot be found."));
}

TEST_CASE("expired grant gets 401 timed out", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1"});
    const std::string initial(sandbox.patients().at(0).at("refresh_token").as_string());
    const auto first = sandbox.payer_token(initial);
    REQUIRE(first.status == 200);
    const std::string access(first.json().at("access_token").as_string());
    const std::string refresh(first.json().at("refresh_token").as_string());
    REQUIRE(sandbox.request("payer", "POST", "/_sandbox/expire_grant?patient=-19990000000001").status == 200);

    const auto fhir = sandbox.get_with_token("payer", eob_page, access);
    CHECK(fhir.status == 401);
    CHECK(std::string(fhir.json().at("detail").as_string()).starts_with("User access has timed out."));
    const auto refused = sandbox.payer_token(refresh);
    CHECK(refused.status == 401);
    CHECK(refused.json().at("status_code").as_int64() == 401);
    CHECK(refused.json().at("error").as_string() == "invalid_grant");

    const auto renewed = sandbox.request("payer", "POST", "/_sandbox/consent?patient=-19990000000001");
    CHECK(sandbox.payer_token(std::string(renewed.json().at("refresh_token").as_string())).status == 200);
}

TEST_CASE("one-time app may not refresh", "[sandbox]")
{
    sandbox_process sandbox({"--patients", "1", "--eobs-per-patient", "1", "--payer-app-type", "one-time"});
    const auto result = sandbox.payer_token(sandbox.patients().at(0).at("refresh_token").as_string().c_str());
    CHECK(result.status == 403);
    CHECK(result.json().at("error").as_string() == "invalid_client");
    CHECK(result.json().at("status_code").as_int64() == 403);
}

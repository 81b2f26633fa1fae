#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/mapping/resource_identity.hpp"
#include "daemon/mapping/sha1.hpp"

using namespace bbsync::mapping;

namespace {

std::string to_hex(const std::array<std::uint8_t, 20>& digest)
{
    constexpr std::string_view digits = "0123456789abcdef";
    std::string text;
    for (const std::uint8_t byte : digest)
    {
        text += digits[byte >> 4];
        text += digits[byte & 0x0F];
    }
    return text;
}

}  // namespace

TEST_CASE("SHA-1 matches the FIPS 180 test vectors", "[mapping]")
{
    CHECK(to_hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(to_hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(
        to_hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    );
    CHECK(to_hex(sha1(std::string(1000000, 'a'))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("SHA-1 pads correctly at block boundaries", "[mapping]")
{
    // Reference digests from Python's hashlib.sha1(b"a" * n).
    CHECK(to_hex(sha1(std::string(55, 'a'))) == "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    CHECK(to_hex(sha1(std::string(56, 'a'))) == "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    CHECK(to_hex(sha1(std::string(63, 'a'))) == "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
    CHECK(to_hex(sha1(std::string(64, 'a'))) == "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    CHECK(to_hex(sha1(std::string(65, 'a'))) == "11655326c708d70319be2610e8a57d9a5b959d3b");
    CHECK(to_hex(sha1(std::string(119, 'a'))) == "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56");
    CHECK(to_hex(sha1(std::string(120, 'a'))) == "f34c1488385346a55709ba056ddd08280dd4c6d6");
}

TEST_CASE("full_url is a version 5 UUID", "[mapping]")
{
    // Reference values from Python's uuid.uuid5(uuid.NAMESPACE_URL, "<type>|<system>|<value>").
    CHECK(
        make_full_url("Practitioner", "http://hl7.org/fhir/sid/us-npi", "1750384806") ==
        "urn:uuid:8194e2ad-b92f-5dcb-b843-bdd7897abd20"
    );
    CHECK(
        make_full_url("Encounter", "urn:bbsync:encounter", "pde-89") ==
        "urn:uuid:321d8c67-258a-516e-967b-5dad2f7188ca"
    );
}

TEST_CASE("full_url changes with each part", "[mapping]")
{
    const std::string base = make_full_url("Condition", "urn:bbsync:condition", "x#diagnosis-1");
    CHECK(make_full_url("Procedure", "urn:bbsync:condition", "x#diagnosis-1") != base);
    CHECK(make_full_url("Condition", "urn:bbsync:procedure", "x#diagnosis-1") != base);
    CHECK(make_full_url("Condition", "urn:bbsync:condition", "x#diagnosis-2") != base);
    CHECK(make_full_url("Condition", "urn:bbsync:condition", "x#diagnosis-1") == base);
}

TEST_CASE("ifNoneExist query escapes the token parts", "[mapping]")
{
    CHECK(
        make_if_none_exist("http://hl7.org/fhir/sid/us-npi", "1750384806") ==
        "identifier=http://hl7.org/fhir/sid/us-npi|1750384806"
    );
    CHECK(
        make_if_none_exist("urn:bbsync:condition", "inpatient-1#diagnosis-2") ==
        "identifier=urn:bbsync:condition|inpatient-1%23diagnosis-2"
    );
    CHECK(make_if_none_exist("s", "a|b,c$d\\e") == "identifier=s|a%5C%7Cb%5C%2Cc%5C%24d%5C%5Ce");
    CHECK(make_if_none_exist("s", "a b&c=d+e%") == "identifier=s|a%20b%26c%3Dd%2Be%25");
}

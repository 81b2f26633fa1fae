#include "sandbox/tls_identity.hpp"

#include <boost/asio/buffer.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace bbsync::sandbox {
namespace {

namespace ssl = boost::asio::ssl;

struct pkey_deleter
{
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct x509_deleter
{
    void operator()(X509* certificate) const { X509_free(certificate); }
};
struct bio_deleter
{
    void operator()(BIO* bio) const { BIO_free(bio); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

[[noreturn]] void fail(const std::string& step)
{
    const unsigned long code = ERR_get_error();
    char text[256] = "no OpenSSL error queued";
    if (code != 0)
        ERR_error_string_n(code, text, sizeof text);
    throw std::runtime_error("TLS identity: " + step + " failed: " + text);
}

void check(int result, const char* step)
{
    if (result <= 0)
        fail(step);
}

pkey_ptr generate_key()
{
    pkey_ptr key(EVP_EC_gen("P-256"));
    if (!key)
        fail("EC P-256 key generation");
    return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value)
{
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    if (extension == nullptr)
        fail(std::string("certificate extension ") + OBJ_nid2sn(nid));
    const int added = X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
    check(added, "X509_add_ext");
}

// Creates a certificate for `key`, signed by `issuer_key` (self-signed when `issuer` is null).
x509_ptr make_certificate(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key)
{
    x509_ptr certificate(X509_new());
    if (!certificate)
        fail("X509_new");
    check(X509_set_version(certificate.get(), 2), "X509_set_version");

    // A random positive 64-bit serial number.
    unsigned char serial_bytes[8];
    check(RAND_bytes(serial_bytes, sizeof serial_bytes), "RAND_bytes");
    serial_bytes[0] &= 0x7F;
    BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
    if (serial == nullptr || BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate.get())) == nullptr)
        fail("serial number");
    BN_free(serial);

    if (X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 7L * 24 * 3600) == nullptr)
        fail("validity period");
    check(X509_set_pubkey(certificate.get(), key), "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(certificate.get());
    check(
        X509_NAME_add_entry_by_txt(
            name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("bbsync-sandbox"), -1, -1, 0
        ),
        "subject O"
    );
    check(
        X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0
        ),
        "subject CN"
    );
    X509* signer = issuer != nullptr ? issuer : certificate.get();
    check(X509_set_issuer_name(certificate.get(), X509_get_subject_name(signer)), "X509_set_issuer_name");

    if (issuer == nullptr)
    {
        add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(certificate.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_extension(certificate.get(), signer, NID_subject_key_identifier, "hash");
    }
    else
    {
        add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(certificate.get(), signer, NID_key_usage, "critical,digitalSignature");
        add_extension(certificate.get(), signer, NID_ext_key_usage, "serverAuth");
        add_extension(certificate.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
        add_extension(certificate.get(), signer, NID_subject_key_identifier, "hash");
        add_extension(certificate.get(), signer, NID_authority_key_identifier, "keyid:always");
    }
    if (X509_sign(certificate.get(), issuer_key, EVP_sha256()) <= 0)
        fail("X509_sign");
    return certificate;
}

std::string read_bio(BIO* bio)
{
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::string certificate_pem(X509* certificate)
{
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio)
        fail("BIO_new");
    check(PEM_write_bio_X509(bio.get(), certificate), "PEM_write_bio_X509");
    return read_bio(bio.get());
}

std::string key_pem(EVP_PKEY* key)
{
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio)
        fail("BIO_new");
    check(
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey"
    );
    return read_bio(bio.get());
}

}  // namespace

tls_identity generate_tls_identity()
{
    const auto ca_key = generate_key();
    const auto ca = make_certificate(ca_key.get(), "bbsync-sandbox CA", nullptr, ca_key.get());
    const auto server_key = generate_key();
    const auto server = make_certificate(server_key.get(), "localhost", ca.get(), ca_key.get());
    return {certificate_pem(ca.get()), certificate_pem(server.get()), key_pem(server_key.get())};
}

ssl::context make_server_context(const tls_identity& identity)
{
    ssl::context context(ssl::context::tls_server);
    context.set_options(
        ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
        ssl::context::single_dh_use
    );
    check(
        SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION),
        "SSL_CTX_set_min_proto_version"
    );
    context.use_certificate_chain(boost::asio::buffer(identity.server_certificate_pem));
    context.use_private_key(boost::asio::buffer(identity.server_key_pem), ssl::context::pem);
    return context;
}

}  // namespace bbsync::sandbox

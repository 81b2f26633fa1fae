#include "test_pki.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <fstream>
#include <stdexcept>

namespace ssl = boost::asio::ssl;

namespace bbsync::test {
namespace {

struct bio_deleter
{
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct key_deleter
{
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct certificate_deleter
{
    void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};

using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using key_ptr = std::unique_ptr<EVP_PKEY, key_deleter>;
using certificate_ptr = std::unique_ptr<X509, certificate_deleter>;

void check(bool ok, const char* call)
{
    if (!ok)
    {
        throw std::runtime_error(
            std::string("OpenSSL call failed while generating test certificates: ") + call
        );
    }
}

key_ptr generate_key()
{
    key_ptr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EVP_EC_gen");
    return key;
}

// Validity relative to now, in seconds.
struct validity
{
    long not_before;
    long not_after;
};

constexpr validity current{-3600, 7 * 24 * 3600};
constexpr validity ended{-2 * 24 * 3600, -24 * 3600};

struct certificate_request
{
    const char* common_name;
    const char* subject_alt_name;  // nullptr for a CA
    validity valid_for;
    X509* issuer;          // nullptr when self-signed
    EVP_PKEY* issuer_key;  // nullptr when self-signed
};

void add_extension(X509* certificate, X509V3_CTX& context, int nid, const char* value)
{
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    check(extension != nullptr, "X509V3_EXT_conf_nid");
    const int added = X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
    check(added == 1, "X509_add_ext");
}

certificate_ptr make_certificate(const certificate_request& request, EVP_PKEY* key)
{
    static long next_serial = 1;
    certificate_ptr certificate(X509_new());
    check(certificate != nullptr, "X509_new");
    X509* raw = certificate.get();

    // Subject, validity and public key.
    check(X509_set_version(raw, 2) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(raw), next_serial++) == 1, "ASN1_INTEGER_set");
    check(
        X509_gmtime_adj(X509_getm_notBefore(raw), request.valid_for.not_before) != nullptr, "X509_gmtime_adj"
    );
    check(
        X509_gmtime_adj(X509_getm_notAfter(raw), request.valid_for.not_after) != nullptr, "X509_gmtime_adj"
    );
    X509_NAME* name = X509_get_subject_name(raw);
    const auto* common_name = reinterpret_cast<const unsigned char*>(request.common_name);
    check(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, common_name, -1, -1, 0) == 1,
        "X509_NAME_add_entry_by_txt"
    );
    check(X509_set_pubkey(raw, key) == 1, "X509_set_pubkey");

    // Issuer: the CA, or the certificate itself.
    X509* issuer = request.issuer != nullptr ? request.issuer : raw;
    EVP_PKEY* signing_key = request.issuer_key != nullptr ? request.issuer_key : key;
    check(X509_set_issuer_name(raw, X509_get_subject_name(issuer)) == 1, "X509_set_issuer_name");

    // Extensions: a CA may sign certificates, a leaf serves TLS for its alternative names.
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, raw, nullptr, nullptr, 0);
    add_extension(raw, context, NID_subject_key_identifier, "hash");
    if (request.issuer != nullptr)
    {
        add_extension(raw, context, NID_authority_key_identifier, "keyid:always");
    }
    if (request.subject_alt_name == nullptr)
    {
        add_extension(raw, context, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(raw, context, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    else
    {
        add_extension(raw, context, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(raw, context, NID_key_usage, "critical,digitalSignature");
        add_extension(raw, context, NID_ext_key_usage, "serverAuth");
        add_extension(raw, context, NID_subject_alt_name, request.subject_alt_name);
    }

    check(X509_sign(raw, signing_key, EVP_sha256()) > 0, "X509_sign");
    return certificate;
}

std::string read_bio(BIO* bio)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string certificate_to_pem(X509* certificate)
{
    bio_ptr bio(BIO_new(BIO_s_mem()));
    check(bio != nullptr && PEM_write_bio_X509(bio.get(), certificate) == 1, "PEM_write_bio_X509");
    return read_bio(bio.get());
}

std::string key_to_pem(EVP_PKEY* key)
{
    bio_ptr bio(BIO_new(BIO_s_mem()));
    check(
        bio != nullptr &&
            PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey"
    );
    return read_bio(bio.get());
}

server_identity make_identity(
    const char* common_name,
    const char* subject_alt_name,
    validity valid_for,
    X509* issuer,
    EVP_PKEY* issuer_key
)
{
    auto key = generate_key();
    auto certificate =
        make_certificate({common_name, subject_alt_name, valid_for, issuer, issuer_key}, key.get());
    return {certificate_to_pem(certificate.get()), key_to_pem(key.get())};
}

std::filesystem::path make_temporary_directory()
{
    auto pattern = (std::filesystem::temp_directory_path() / "bbsync-pki-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
    {
        throw std::filesystem::filesystem_error(
            "cannot create a temporary directory for test certificates",
            pattern,
            std::error_code(errno, std::generic_category())
        );
    }
    return pattern;
}

}  // namespace

test_pki::test_pki()
{
    constexpr const char* loopback_names = "IP:127.0.0.1,DNS:localhost";

    // The trusted CA and the leaves it issues.
    auto ca_key = generate_key();
    auto ca = make_certificate({"bbsync test CA", nullptr, current, nullptr, nullptr}, ca_key.get());
    valid_ = make_identity("localhost", loopback_names, current, ca.get(), ca_key.get());
    wrong_name_ = make_identity("other.invalid", "DNS:other.invalid", current, ca.get(), ca_key.get());
    expired_ = make_identity("localhost", loopback_names, ended, ca.get(), ca_key.get());
    self_signed_ = make_identity("localhost", loopback_names, current, nullptr, nullptr);

    // A second CA that the client never learns about.
    auto other_ca_key = generate_key();
    auto other_ca = make_certificate(
        {"bbsync untrusted test CA", nullptr, current, nullptr, nullptr}, other_ca_key.get()
    );
    untrusted_issuer_ =
        make_identity("localhost", loopback_names, current, other_ca.get(), other_ca_key.get());

    // The client loads trust anchors from a file.
    directory_ = make_temporary_directory();
    ca_file_ = (directory_ / "ca.pem").string();
    std::ofstream out(ca_file_, std::ios::binary);
    out << certificate_to_pem(ca.get());
    out.close();
    if (!out)
    {
        throw std::filesystem::filesystem_error(
            "cannot write the test CA certificate", ca_file_, std::make_error_code(std::errc::io_error)
        );
    }
}

test_pki::~test_pki()
{
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

const test_pki& test_pki::shared()
{
    static const test_pki instance;
    return instance;
}

std::shared_ptr<ssl::context> make_tls_server_context(const server_identity& identity)
{
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->use_certificate_chain(boost::asio::buffer(identity.certificate_pem));
    context->use_private_key(boost::asio::buffer(identity.private_key_pem), ssl::context::pem);
    return context;
}

void restrict_to_tls_1_1(ssl::context& context)
{
    SSL_CTX* native = context.native_handle();
    SSL_CTX_set_security_level(native, 0);
    check(SSL_CTX_set_min_proto_version(native, TLS1_1_VERSION) == 1, "SSL_CTX_set_min_proto_version");
    check(SSL_CTX_set_max_proto_version(native, TLS1_1_VERSION) == 1, "SSL_CTX_set_max_proto_version");
    check(SSL_CTX_set_cipher_list(native, "DEFAULT:@SECLEVEL=0") == 1, "SSL_CTX_set_cipher_list");
}

}  // namespace bbsync::test

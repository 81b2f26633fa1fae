#ifndef BBSYNC_TESTS_SUPPORT_TEST_PKI_HPP
#define BBSYNC_TESTS_SUPPORT_TEST_PKI_HPP

#include <filesystem>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace bbsync::test {

// A server certificate and its private key, both PEM-encoded.
struct server_identity
{
    std::string certificate_pem;
    std::string private_key_pem;
};

// Certificates for TLS tests, generated in memory with EC P-256 keys: a trusted CA, leaves it
// issues, and leaves that a client trusting only that CA must reject. The CA certificate is
// also written to a file, because clients load trust anchors from a file.
class test_pki
{
public:
    // Generates every key and certificate. Throws std::runtime_error naming the OpenSSL call
    // that failed, and std::filesystem::filesystem_error when the CA file cannot be written.
    test_pki();
    test_pki(const test_pki&) = delete;
    test_pki& operator=(const test_pki&) = delete;

    // Removes the CA file and its directory.
    ~test_pki();

    // Returns the process-wide instance, created on first use (key generation is the slow part).
    static const test_pki& shared();

    // PEM file holding only the trusted CA certificate.
    const std::string& ca_file() const noexcept { return ca_file_; }

    // Issued by the trusted CA for IP:127.0.0.1 and DNS:localhost.
    const server_identity& valid() const noexcept { return valid_; }

    // Issued by the trusted CA for DNS:other.invalid only.
    const server_identity& wrong_name() const noexcept { return wrong_name_; }

    // Issued by the trusted CA for the loopback names, valid until one day ago.
    const server_identity& expired() const noexcept { return expired_; }

    // Signed by its own key, for the loopback names.
    const server_identity& self_signed() const noexcept { return self_signed_; }

    // Issued for the loopback names by a second CA that the client does not trust.
    const server_identity& untrusted_issuer() const noexcept { return untrusted_issuer_; }

private:
    std::filesystem::path directory_;
    std::string ca_file_;
    server_identity valid_;
    server_identity wrong_name_;
    server_identity expired_;
    server_identity self_signed_;
    server_identity untrusted_issuer_;
};

// Creates a TLS server context that presents `identity`. Throws boost::system::system_error
// when the PEM text is rejected.
std::shared_ptr<boost::asio::ssl::context> make_tls_server_context(const server_identity& identity);

// Limits `context` to TLS 1.1 and lowers its OpenSSL security level to 0, which TLS 1.1 needs
// on OpenSSL 3. Throws std::runtime_error when OpenSSL rejects either setting.
void restrict_to_tls_1_1(boost::asio::ssl::context& context);

}  // namespace bbsync::test

#endif

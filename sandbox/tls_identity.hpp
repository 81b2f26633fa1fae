#ifndef BBSYNC_SANDBOX_TLS_IDENTITY_HPP
#define BBSYNC_SANDBOX_TLS_IDENTITY_HPP

#include <boost/asio/ssl/context.hpp>

#include <string>

namespace bbsync::sandbox {

// A throw-away certificate authority and a server certificate it signed, PEM encoded.
// The private keys exist only in this object.
struct tls_identity
{
    std::string ca_certificate_pem;
    std::string server_certificate_pem;
    std::string server_key_pem;
};

// Generates, with OpenSSL in process, an EC P-256 CA (CA:TRUE) and a server certificate
// for IP:127.0.0.1 and DNS:localhost, both valid from one hour ago to seven days ahead.
// Throws std::runtime_error naming the OpenSSL step that failed.
tls_identity generate_tls_identity();

// Builds a TLS server context (TLS 1.2 minimum) that presents the server certificate.
// Throws std::runtime_error or boost::system::system_error when OpenSSL rejects the
// certificate or key.
boost::asio::ssl::context make_server_context(const tls_identity& identity);

}  // namespace bbsync::sandbox

#endif

#ifndef BBSYNC_DAEMON_COMMON_TOKEN_CIPHER_HPP
#define BBSYNC_DAEMON_COMMON_TOKEN_CIPHER_HPP

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bbsync {

// Raised when a key file cannot be used or a stored token cannot be decrypted. what() names
// the key file or key id involved and what to do, and never contains key or token bytes.
class token_cipher_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// A 256-bit AES key with the file it came from and its id.
struct token_key
{
    std::string bytes;  // exactly 32 bytes
    std::string file;   // path shown in error messages
    std::string id;     // first 8 bytes of SHA-256(bytes), as 16 lower-case hex digits
};

// Reads a key file: either exactly 32 raw bytes, or 64 hex digits with an optional trailing
// newline (the output of `openssl rand -hex 32`). The file must not be readable by group or
// others. Throws token_cipher_error naming the file and the problem.
token_key load_token_key(const std::string& file);

// Builds a key from 32 bytes, computing its id. Throws token_cipher_error when the size is not
// 32 bytes.
token_key make_token_key(std::string bytes, std::string file);

// Encrypts refresh tokens for storage with AES-256-GCM. Each encryption uses a fresh random
// 96-bit nonce, and binds the ciphertext to the patient's row key and the key id through the
// associated data, so that a ciphertext copied into another row fails authentication. The
// stored text is base64(nonce || ciphertext || 16-byte tag). A previous key, kept after a key
// rotation, is used only to decrypt.
class token_cipher
{
public:
    explicit token_cipher(token_key current, std::optional<token_key> previous = std::nullopt);

    // Id of the key that seal() uses.
    const std::string& key_id() const noexcept { return current_.id; }

    // Returns whether `key_id` is the current key's id.
    bool is_current(std::string_view key_id) const noexcept { return key_id == current_.id; }

    // Encrypts `token` for the patient row `patient_key` with the current key. Returns the
    // base64 text to store beside key_id(). Throws token_cipher_error when OpenSSL fails.
    std::string seal(std::string_view token, std::int64_t patient_key) const;

    // Decrypts text written by seal() under the key with id `key_id`. Throws
    // token_cipher_error naming the key files when no configured key has that id, and when
    // authentication fails (tampered text, another row's ciphertext, or a different key with
    // a colliding id).
    std::string open(std::string_view sealed, std::string_view key_id, std::int64_t patient_key) const;

    // "FILE (key id ID)" for the current key and, when set, the previous key, for messages.
    std::string describe_keys() const;

private:
    token_key current_;
    std::optional<token_key> previous_;
};

}  // namespace bbsync

#endif

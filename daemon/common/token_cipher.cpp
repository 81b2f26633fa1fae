#include "daemon/common/token_cipher.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <sys/stat.h>

namespace bbsync {
namespace {

constexpr std::size_t key_size = 32;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

struct cipher_context_deleter
{
    void operator()(EVP_CIPHER_CTX* context) const noexcept { EVP_CIPHER_CTX_free(context); }
};
using cipher_context = std::unique_ptr<EVP_CIPHER_CTX, cipher_context_deleter>;

cipher_context new_context()
{
    cipher_context context(EVP_CIPHER_CTX_new());
    if (!context)
    {
        throw token_cipher_error("cannot allocate an OpenSSL cipher context");
    }
    return context;
}

std::string to_hex(const unsigned char* data, std::size_t size)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (std::size_t i = 0; i < size; ++i)
    {
        text.push_back(digits[data[i] >> 4]);
        text.push_back(digits[data[i] & 0x0f]);
    }
    return text;
}

std::optional<std::string> from_hex(std::string_view text)
{
    if (text.size() % 2 != 0)
    {
        return std::nullopt;
    }
    std::string bytes;
    for (std::size_t i = 0; i < text.size(); i += 2)
    {
        const auto high = std::string("0123456789abcdef").find(static_cast<char>(std::tolower(text[i])));
        const auto low = std::string("0123456789abcdef").find(static_cast<char>(std::tolower(text[i + 1])));
        if (high == std::string::npos || low == std::string::npos)
        {
            return std::nullopt;
        }
        bytes.push_back(static_cast<char>((high << 4) | low));
    }
    return bytes;
}

std::string to_base64(const std::string& bytes)
{
    std::string text(4 * ((bytes.size() + 2) / 3), '\0');
    const int written = EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(text.data()),
        reinterpret_cast<const unsigned char*>(bytes.data()),
        static_cast<int>(bytes.size())
    );
    text.resize(static_cast<std::size_t>(written));
    return text;
}

std::optional<std::string> from_base64(std::string_view text)
{
    if (text.empty() || text.size() % 4 != 0)
    {
        return std::nullopt;
    }
    std::string bytes(3 * text.size() / 4, '\0');
    const int written = EVP_DecodeBlock(
        reinterpret_cast<unsigned char*>(bytes.data()),
        reinterpret_cast<const unsigned char*>(text.data()),
        static_cast<int>(text.size())
    );
    if (written < 0)
    {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts the zero bytes that the '=' padding stands for.
    std::size_t padding = 0;
    for (auto it = text.rbegin(); it != text.rend() && *it == '=' && padding < 2; ++it)
    {
        ++padding;
    }
    bytes.resize(static_cast<std::size_t>(written) - padding);
    return bytes;
}

// Binds a ciphertext to its row and key: a version label, the key id and the patient key.
std::string associated_data(std::string_view key_id, std::int64_t patient_key)
{
    std::string data = "bbsync refresh token v1";
    data.push_back('\0');
    data += key_id;
    data.push_back('\0');
    data += std::to_string(patient_key);
    return data;
}

std::string key_label(const token_key& key) { return key.file + " (key id " + key.id + ")"; }

}  // namespace

token_key make_token_key(std::string bytes, std::string file)
{
    if (bytes.size() != key_size)
    {
        throw token_cipher_error(
            "token key " + file + " contains " + std::to_string(bytes.size()) +
            " bytes; a key is 32 raw bytes or 64 hex digits, e.g. from openssl rand -hex 32"
        );
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    token_key key;
    key.bytes = std::move(bytes);
    key.file = std::move(file);
    key.id = to_hex(digest, 8);
    return key;
}

token_key load_token_key(const std::string& file)
{
    struct stat info
    {};
    if (stat(file.c_str(), &info) != 0)
    {
        throw token_cipher_error("token key file " + file + " cannot be read: check the path");
    }
    if ((info.st_mode & 077) != 0)
    {
        throw token_cipher_error(
            "token key file " + file + " is readable by group or others: run chmod 600 " + file
        );
    }
    std::ifstream in(file, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof())
    {
        throw token_cipher_error("token key file " + file + " cannot be read: check its owner and mode");
    }
    if (content.size() == key_size)
    {
        return make_token_key(std::move(content), file);
    }
    std::string_view hex(content);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r'))
    {
        hex.remove_suffix(1);
    }
    auto bytes = from_hex(hex);
    OPENSSL_cleanse(content.data(), content.size());
    if (hex.size() != 2 * key_size || !bytes)
    {
        throw token_cipher_error(
            "token key file " + file +
            " must contain 32 raw bytes or 64 hex digits; create one with openssl rand -hex 32 > " + file
        );
    }
    return make_token_key(std::move(*bytes), file);
}

token_cipher::token_cipher(token_key current, std::optional<token_key> previous)
    : current_(std::move(current)), previous_(std::move(previous))
{
    if (current_.bytes.size() != key_size || (previous_ && previous_->bytes.size() != key_size))
    {
        throw token_cipher_error("a token key must be 32 bytes; build keys with make_token_key");
    }
}

std::string token_cipher::describe_keys() const
{
    auto text = "tokens.keyFile " + key_label(current_);
    if (previous_)
    {
        text += " and tokens.previousKeyFile " + key_label(*previous_);
    }
    return text;
}

std::string token_cipher::seal(std::string_view token, std::int64_t patient_key) const
{
    std::string out(nonce_size + token.size() + tag_size, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    auto* body = nonce + nonce_size;
    if (RAND_bytes(nonce, static_cast<int>(nonce_size)) != 1)
    {
        throw token_cipher_error("cannot draw a random nonce from OpenSSL");
    }

    const auto aad = associated_data(current_.id, patient_key);
    auto context = new_context();
    const auto* key = reinterpret_cast<const unsigned char*>(current_.bytes.data());
    int length = 0;
    bool ok = EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key, nonce) == 1;
    ok = ok && EVP_EncryptUpdate(
                   context.get(),
                   nullptr,
                   &length,
                   reinterpret_cast<const unsigned char*>(aad.data()),
                   static_cast<int>(aad.size())
               ) == 1;
    ok = ok && EVP_EncryptUpdate(
                   context.get(),
                   body,
                   &length,
                   reinterpret_cast<const unsigned char*>(token.data()),
                   static_cast<int>(token.size())
               ) == 1;
    ok = ok && EVP_EncryptFinal_ex(context.get(), body + length, &length) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(
                   context.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), body + token.size()
               ) == 1;
    if (!ok)
    {
        throw token_cipher_error("AES-256-GCM encryption failed in OpenSSL");
    }
    return to_base64(out);
}

std::string token_cipher::open(std::string_view sealed, std::string_view key_id, std::int64_t patient_key)
    const
{
    const token_key* key = nullptr;
    if (key_id == current_.id)
    {
        key = &current_;
    }
    else if (previous_ && key_id == previous_->id)
    {
        key = &*previous_;
    }
    if (key == nullptr)
    {
        throw token_cipher_error(
            "the refresh token of patient " + std::to_string(patient_key) + " is encrypted with key id " +
            std::string(key_id) + ", which is the id of none of the configured keys, " + describe_keys() +
            ": set tokens.previousKeyFile to the key file that was used before the rotation"
        );
    }

    auto raw = from_base64(sealed);
    if (!raw || raw->size() < nonce_size + tag_size)
    {
        throw token_cipher_error(
            "the stored refresh token of patient " + std::to_string(patient_key) +
            " is not valid sealed text; the patient must consent again"
        );
    }
    const auto* nonce = reinterpret_cast<const unsigned char*>(raw->data());
    const auto* body = nonce + nonce_size;
    const auto body_size = raw->size() - nonce_size - tag_size;
    std::string token(body_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(token.data());

    const auto aad = associated_data(key->id, patient_key);
    auto context = new_context();
    int length = 0;
    const auto* key_bytes = reinterpret_cast<const unsigned char*>(key->bytes.data());
    bool ok = EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key_bytes, nonce) == 1;
    ok = ok && EVP_DecryptUpdate(
                   context.get(),
                   nullptr,
                   &length,
                   reinterpret_cast<const unsigned char*>(aad.data()),
                   static_cast<int>(aad.size())
               ) == 1;
    ok = ok && EVP_DecryptUpdate(context.get(), out, &length, body, static_cast<int>(body_size)) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(
                   context.get(),
                   EVP_CTRL_GCM_SET_TAG,
                   static_cast<int>(tag_size),
                   const_cast<unsigned char*>(body + body_size)
               ) == 1;
    ok = ok && EVP_DecryptFinal_ex(context.get(), out + length, &length) == 1;
    if (!ok)
    {
        OPENSSL_cleanse(token.data(), token.size());
        throw token_cipher_error(
            "the stored refresh token of patient " + std::to_string(patient_key) +
            " failed authentication under " + key_label(*key) +
            ": the row was modified or copied from another patient; the patient must consent again"
        );
    }
    return token;
}

}  // namespace bbsync

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>
#include <openssl/rand.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

#include "coro/https_client.hpp"
#include "coro/run.hpp"
#include "daemon/common/token_cipher.hpp"
#include "daemon/payer/payer_client.hpp"
#include "daemon/payer/token_manager.hpp"
#include "daemon/service/config.hpp"
#include "daemon/service/log.hpp"
#include "daemon/sync/repository.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/statement.hpp"

namespace fs = std::filesystem;
using bbsync::repository;
using bbsync::token_cipher;
using bbsync::token_cipher_error;
using bbsync::token_key;

namespace {

// A private directory under the system temporary directory, removed with its content.
class scratch_folder
{
public:
    scratch_folder()
    {
        std::string pattern = (fs::temp_directory_path() / "bbsync-security-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr)
        {
            throw std::runtime_error("mkdtemp failed for " + pattern);
        }
        path_ = pattern;
    }
    scratch_folder(const scratch_folder&) = delete;
    scratch_folder& operator=(const scratch_folder&) = delete;
    ~scratch_folder()
    {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }

    const fs::path& path() const noexcept { return path_; }

private:
    fs::path path_;
};

// Writes 64 random hex digits to `name` with mode 0600 and returns the path.
std::string write_key_file(const scratch_folder& folder, const std::string& name)
{
    unsigned char bytes[32];
    REQUIRE(RAND_bytes(bytes, sizeof bytes) == 1);
    std::string hex;
    for (unsigned char byte : bytes)
    {
        static constexpr char digits[] = "0123456789abcdef";
        hex.push_back(digits[byte >> 4]);
        hex.push_back(digits[byte & 0x0f]);
    }
    const auto path = (folder.path() / name).string();
    std::ofstream(path) << hex << "\n";
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    return path;
}

std::shared_ptr<const token_cipher> cipher_from(
    const std::string& key_file, const std::string& previous_key_file = {}
)
{
    std::optional<token_key> previous;
    if (!previous_key_file.empty())
    {
        previous = bbsync::load_token_key(previous_key_file);
    }
    return std::make_shared<const token_cipher>(bbsync::load_token_key(key_file), std::move(previous));
}

bbsync::store::database open_database(const fs::path& path)
{
    auto db = bbsync::store::database::open(path.string());
    bbsync::store::migrate(db, bbsync::store::load_migrations(bbsync::store::project_migrations()));
    return db;
}

std::string read_bytes(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The database file and its WAL, as a copy of the state directory would contain them.
std::string database_file_bytes(const fs::path& database)
{
    auto bytes = read_bytes(database);
    const auto wal = fs::path(database.string() + "-wal");
    if (fs::exists(wal))
    {
        bytes += read_bytes(wal);
    }
    return bytes;
}

std::string stored_column(bbsync::store::database& db, const std::string& column, std::int64_t key)
{
    auto query = db.prepare("SELECT " + column + " FROM patients WHERE patient_key = ?1");
    query.bind(1, key);
    REQUIRE(query.step());
    return query.column_optional_text(0).value_or("<NULL>");
}

// Runs `action` and returns the token_cipher_error message it throws, or "" when none.
template <class Action>
std::string cipher_error_of(Action action)
{
    try
    {
        action();
    }
    catch (const token_cipher_error& e)
    {
        return e.what();
    }
    return {};
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// Recognisable token values, so that a leak into the files can be searched for.
const std::string first_token = "rt-first-3f1c9e7a-PLAINTEXT-MARKER";
const std::string rotated_token = "rt-rotated-b84d20c5-PLAINTEXT-MARKER";

}  // namespace

TEST_CASE("encrypted refresh token round trip", "[security][tokens]")
{
    scratch_folder folder;
    const auto cipher = cipher_from(write_key_file(folder, "token-key"));
    auto db = open_database(folder.path() / "bbsync.db");
    repository repo(db, cipher);

    const auto key = repo.add_patient("001A", "-20140000008325", first_token, 3600);
    CHECK(repo.refresh_token(key) == first_token);
    CHECK(stored_column(db, "refresh_token_key_id", key) == cipher->key_id());
    const auto first_sealed = stored_column(db, "refresh_token", key);
    CHECK_FALSE(contains(first_sealed, first_token));

    repo.store_rotated_token(key, rotated_token);
    CHECK(repo.refresh_token(key) == rotated_token);
    const auto patient = repo.find_patient(key);
    REQUIRE(patient);
    CHECK(patient->has_refresh_token);
}

TEST_CASE("same token sealed twice differs by nonce", "[security][tokens]")
{
    scratch_folder folder;
    const auto cipher = cipher_from(write_key_file(folder, "token-key"));

    const auto one = cipher->seal(first_token, 1);
    const auto two = cipher->seal(first_token, 1);

    CHECK(one != two);
    CHECK(cipher->open(one, cipher->key_id(), 1) == first_token);
    CHECK(cipher->open(two, cipher->key_id(), 1) == first_token);
}

TEST_CASE("copied database without key yields no token", "[security][tokens]")
{
    scratch_folder folder;
    const auto database = folder.path() / "bbsync.db";
    const auto key_file = write_key_file(folder, "token-key");
    std::int64_t key = 0;
    {
        auto db = open_database(database);
        repository repo(db, cipher_from(key_file));
        key = repo.add_patient("001A", "-20140000008325", first_token, 3600);
        repo.store_rotated_token(key, rotated_token);

        // While the connection is open the WAL contains the latest pages.
        const auto live = database_file_bytes(database);
        CHECK_FALSE(contains(live, first_token));
        CHECK_FALSE(contains(live, rotated_token));
        CHECK_FALSE(contains(live, "PLAINTEXT-MARKER"));
    }
    const auto closed = database_file_bytes(database);
    CHECK_FALSE(contains(closed, "PLAINTEXT-MARKER"));

    // The copy, opened without the key file.
    const auto copy = folder.path() / "copy.db";
    fs::copy_file(database, copy);
    auto db = open_database(copy);
    repository keyless(db, nullptr);
    const auto keyless_error = cipher_error_of([&] { (void)keyless.refresh_token(key); });
    INFO(keyless_error);
    CHECK(contains(keyless_error, "no token key is configured"));
    CHECK(contains(keyless_error, "tokens.keyFile"));
    CHECK_FALSE(contains(keyless_error, "PLAINTEXT-MARKER"));

    const auto protect_error = cipher_error_of([&] { (void)keyless.protect_refresh_tokens(); });
    INFO(protect_error);
    CHECK(contains(protect_error, "encrypted but no token key is configured"));

    // Another key does not open it either.
    repository other(db, cipher_from(write_key_file(folder, "other-key")));
    const auto other_error = cipher_error_of([&] { (void)other.refresh_token(key); });
    INFO(other_error);
    CHECK(contains(other_error, "none of the configured keys"));
}

TEST_CASE("tampered ciphertext fails authentication", "[security][tokens]")
{
    scratch_folder folder;
    const auto cipher = cipher_from(write_key_file(folder, "token-key"));
    auto db = open_database(folder.path() / "bbsync.db");
    repository repo(db, cipher);
    const auto key = repo.add_patient("001A", "-20140000008325", first_token, 3600);

    // Flip one base64 character in the middle of the ciphertext.
    auto sealed = stored_column(db, "refresh_token", key);
    auto& middle = sealed[sealed.size() / 2];
    middle = middle == 'A' ? 'B' : 'A';
    auto update = db.prepare("UPDATE patients SET refresh_token = ?2 WHERE patient_key = ?1");
    update.bind(1, key).bind(2, sealed);
    update.execute();

    const auto message = cipher_error_of([&] { (void)repo.refresh_token(key); });
    INFO(message);
    CHECK(contains(message, "failed authentication"));
    CHECK(contains(message, "patient " + std::to_string(key)));
}

TEST_CASE("ciphertext moved to another row fails", "[security][tokens]")
{
    scratch_folder folder;
    const auto cipher = cipher_from(write_key_file(folder, "token-key"));
    auto db = open_database(folder.path() / "bbsync.db");
    repository repo(db, cipher);
    const auto victim = repo.add_patient("001A", "p1", first_token, 3600);
    const auto attacker = repo.add_patient("001B", "p2", rotated_token, 3600);

    auto copy = db.prepare(
        "UPDATE patients SET refresh_token = (SELECT refresh_token FROM patients WHERE patient_key = ?1) "
        "WHERE patient_key = ?2"
    );
    copy.bind(1, victim).bind(2, attacker);
    copy.execute();

    const auto message = cipher_error_of([&] { (void)repo.refresh_token(attacker); });
    INFO(message);
    CHECK(contains(message, "failed authentication"));
    CHECK(repo.refresh_token(victim) == first_token);
}

TEST_CASE("unknown key id names the key files", "[security][tokens]")
{
    scratch_folder folder;
    const auto key_file = write_key_file(folder, "token-key");
    const auto previous_file = write_key_file(folder, "token-key-previous");
    const auto cipher = cipher_from(key_file, previous_file);
    auto db = open_database(folder.path() / "bbsync.db");
    repository repo(db, cipher);
    const auto key = repo.add_patient("001A", "p1", first_token, 3600);
    db.execute("UPDATE patients SET refresh_token_key_id = '00112233aabbccdd'");

    const auto message = cipher_error_of([&] { (void)repo.refresh_token(key); });
    INFO(message);
    CHECK(contains(message, "key id 00112233aabbccdd"));
    CHECK(contains(message, key_file));
    CHECK(contains(message, previous_file));
    CHECK(contains(message, "tokens.previousKeyFile"));
}

TEST_CASE("key rotation re-encrypts with current key", "[security][tokens]")
{
    scratch_folder folder;
    const auto old_key = write_key_file(folder, "old-key");
    const auto new_key = write_key_file(folder, "new-key");
    auto db = open_database(folder.path() / "bbsync.db");
    std::int64_t key = 0;
    {
        repository before(db, cipher_from(old_key));
        key = before.add_patient("001A", "p1", first_token, 3600);
    }

    const auto rotated = cipher_from(new_key, old_key);
    repository after(db, rotated);
    CHECK(after.refresh_token(key) == first_token);
    const auto report = after.protect_refresh_tokens();
    CHECK(report.reencrypted == 1);
    CHECK(report.encrypted == 0);
    CHECK(stored_column(db, "refresh_token_key_id", key) == rotated->key_id());

    // The old key file can now be dropped.
    repository new_only(db, cipher_from(new_key));
    CHECK(new_only.refresh_token(key) == first_token);
    after.store_rotated_token(key, rotated_token);
    CHECK(new_only.refresh_token(key) == rotated_token);
}

TEST_CASE("plaintext tokens encrypted at start-up", "[security][tokens]")
{
    scratch_folder folder;
    const auto database = folder.path() / "bbsync.db";
    std::int64_t key = 0;
    {
        auto db = open_database(database);
        repository plain(db, nullptr);
        key = plain.add_patient("001A", "p1", first_token, 3600);
        CHECK(plain.protect_refresh_tokens().plaintext == 1);
        CHECK(stored_column(db, "refresh_token", key) == first_token);
    }
    REQUIRE(contains(database_file_bytes(database), "PLAINTEXT-MARKER"));

    const auto cipher = cipher_from(write_key_file(folder, "token-key"));
    {
        auto db = open_database(database);
        repository repo(db, cipher);
        const auto report = repo.protect_refresh_tokens();
        CHECK(report.encrypted == 1);
        CHECK(repo.refresh_token(key) == first_token);
        CHECK_FALSE(contains(database_file_bytes(database), "PLAINTEXT-MARKER"));
    }
    CHECK_FALSE(contains(database_file_bytes(database), "PLAINTEXT-MARKER"));
}

TEST_CASE("key file rejects bad size and mode", "[security][tokens]")
{
    scratch_folder folder;
    const auto short_key = (folder.path() / "short-key").string();
    std::ofstream(short_key) << "abcd\n";
    fs::permissions(short_key, fs::perms::owner_read | fs::perms::owner_write);
    const auto size_error = cipher_error_of([&] { (void)bbsync::load_token_key(short_key); });
    CHECK(contains(size_error, short_key));
    CHECK(contains(size_error, "64 hex digits"));

    const auto shared_key = write_key_file(folder, "shared-key");
    fs::permissions(shared_key, fs::perms::group_read, fs::perm_options::add);
    const auto mode_error = cipher_error_of([&] { (void)bbsync::load_token_key(shared_key); });
    CHECK(contains(mode_error, "chmod 600 " + shared_key));

    const auto missing_error = cipher_error_of([&] { (void)bbsync::load_token_key("/nonexistent/key"); });
    CHECK(contains(missing_error, "/nonexistent/key"));
}

TEST_CASE("config finds key in credentials directory", "[security][tokens]")
{
    scratch_folder folder;
    write_key_file(folder, "token-key");
    bbsync::config_sources sources;
    sources.credentials_directory = folder.path().string();

    auto loaded = bbsync::load_config(sources);
    bbsync::load_token_cipher(loaded.values);

    REQUIRE(loaded.values.refresh_token_cipher);
    CHECK(loaded.values.token_key_file == (folder.path() / "token-key").string());
}

TEST_CASE("config rejects unreadable key file", "[security][tokens]")
{
    bbsync::config_sources sources;
    sources.overrides["tokens.keyFile"] = "/nonexistent/token-key";
    auto loaded = bbsync::load_config(sources);

    try
    {
        bbsync::load_token_cipher(loaded.values);
        FAIL("load_token_cipher accepted a missing key file");
    }
    catch (const bbsync::config_error& e)
    {
        const std::string message = e.what();
        INFO(message);
        CHECK(contains(message, "tokens.keyFile"));
        CHECK(contains(message, "/nonexistent/token-key"));
    }
}

TEST_CASE("config without key obeys allowPlaintext", "[security][tokens]")
{
    bbsync::config_sources sources;

    SECTION("default keeps plaintext")
    {
        const auto loaded = bbsync::load_config(sources);
        CHECK_FALSE(loaded.values.refresh_token_cipher);
    }
    SECTION("false rejects a missing key")
    {
        sources.overrides["tokens.allowPlaintext"] = "false";
        try
        {
            (void)bbsync::load_config(sources);
            FAIL("load_config accepted tokens.allowPlaintext = false without a key");
        }
        catch (const bbsync::config_error& e)
        {
            const std::string message = e.what();
            INFO(message);
            CHECK(contains(message, "tokens.keyFile"));
            CHECK(contains(message, "openssl rand -hex 32"));
        }
    }
    SECTION("previous key alone is rejected")
    {
        scratch_folder folder;
        sources.overrides["tokens.previousKeyFile"] = write_key_file(folder, "old-key");
        CHECK_THROWS_AS(bbsync::load_config(sources), bbsync::config_error);
    }
}

TEST_CASE("undecryptable token fails the job before any request", "[security][tokens]")
{
    scratch_folder folder;
    auto db = open_database(folder.path() / "bbsync.db");
    std::int64_t key = 0;
    {
        repository with_key(db, cipher_from(write_key_file(folder, "token-key")));
        key = with_key.add_patient("001A", "p1", first_token, 3600);
    }
    repository keyless(db, nullptr);
    boost::asio::io_context context;
    bbsync::config settings;
    settings.payer = bbsync::service_address{"127.0.0.1", 9};
    bbsync::coro::https_client http(context.get_executor(), bbsync::coro::make_tls_client_context(""));
    bbsync::payer_client payer(http, settings);
    bbsync::token_manager tokens(context.get_executor(), keyless, payer);
    std::vector<std::string> lines;
    bbsync::log::set_sink([&lines](bbsync::log::level, std::string_view line) { lines.emplace_back(line); });

    auto result = bbsync::coro::run_to_completion(
        context, tokens.access_token(key), std::chrono::steady_clock::duration(std::chrono::seconds(10))
    );
    bbsync::log::set_sink({});

    REQUIRE(result.has_error());
    INFO(result.error().message);
    CHECK(result.error().error_class == bbsync::token_decrypt_failed_class);
    CHECK(contains(result.error().message, "tokens.keyFile"));
    CHECK(tokens.refreshes() == 0);
    REQUIRE(lines.size() == 1);
    INFO(lines[0]);
    CHECK(contains(lines[0], "patient " + std::to_string(key)));
    CHECK(contains(lines[0], "no token key is configured"));
    CHECK_FALSE(contains(lines[0], "PLAINTEXT-MARKER"));
    const auto patient = keyless.find_patient(key);
    REQUIRE(patient);
    CHECK_FALSE(patient->refresh_in_flight);
}

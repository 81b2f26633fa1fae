#include <catch2/catch.hpp>
#include <openssl/rand.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "command_runner.hpp"
#include "daemon/service/cli.hpp"

namespace fs = std::filesystem;
using bbsync::test::command_result;
using bbsync::test::run_command;

namespace {

// A private directory with a configuration file for the real binary.
class cli_folder
{
public:
    cli_folder()
    {
        std::string pattern = (fs::temp_directory_path() / "bbsync-security-cli-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr)
        {
            throw std::runtime_error("mkdtemp failed for " + pattern);
        }
        path_ = pattern;
    }
    cli_folder(const cli_folder&) = delete;
    cli_folder& operator=(const cli_folder&) = delete;
    ~cli_folder()
    {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }

    // Writes `text` to `name` with mode 0600 and returns the path.
    std::string write_private(const std::string& name, const std::string& text) const
    {
        const auto path = (path_ / name).string();
        std::ofstream(path) << text;
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
        return path;
    }

    // Writes a random 256-bit key as hex to `name` and returns the path.
    std::string write_key(const std::string& name) const
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
        return write_private(name, hex + "\n");
    }

    // Writes a configuration `name` for the database in this folder plus `extra` lines.
    std::string write_config(const std::string& name, const std::string& extra) const
    {
        return write_private(name, "database.path = " + database() + "\n" + extra);
    }

    std::string database() const { return (path_ / "bbsync.db").string(); }

    command_result bbsync(
        const std::string& config, std::vector<std::string> arguments, const std::string& input = {}
    ) const
    {
        arguments.insert(arguments.begin(), {BBSYNC_EXECUTABLE, "--config", config});
        return run_command(arguments, input, path_);
    }

private:
    fs::path path_;
};

std::string read_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

const std::string cli_token = "rt-cli-7d0e55aa-PLAINTEXT-MARKER";

}  // namespace

TEST_CASE("patient add stores token encrypted", "[security][tokens][cli]")
{
    cli_folder folder;
    const auto key = folder.write_key("token-key");
    const auto config = folder.write_config("bbsync.conf", "tokens.keyFile = " + key + "\n");

    const auto added = folder.bbsync(
        config,
        {"patient", "add", "--sf-id", "001A", "--payer-id", "p1", "--refresh-token-file", "-"},
        cli_token + "\n"
    );

    INFO(added.err);
    REQUIRE(added.exit_code == 0);
    CHECK_FALSE(contains(read_bytes(folder.database()), "PLAINTEXT-MARKER"));
    CHECK_FALSE(contains(read_bytes(folder.database() + "-wal"), "PLAINTEXT-MARKER"));
    CHECK_FALSE(contains(added.err, "PLAINTEXT-MARKER"));
}

TEST_CASE("start-up encrypts then needs the key", "[security][tokens][cli]")
{
    cli_folder folder;
    const auto plain = folder.write_config("plain.conf", "");
    const auto added = folder.bbsync(
        plain,
        {"patient", "add", "--sf-id", "001A", "--payer-id", "p1", "--refresh-token-file", "-"},
        cli_token + "\n"
    );
    REQUIRE(added.exit_code == 0);

    // Plaintext is reported at every start while no key is set.
    const auto warned = folder.bbsync(plain, {"db", "migrate"});
    CHECK(warned.exit_code == 0);
    CHECK(contains(warned.err, "1 refresh token(s) are stored unencrypted"));

    const auto key = folder.write_key("token-key");
    const auto keyed = folder.write_config("keyed.conf", "tokens.keyFile = " + key + "\n");
    const auto encrypted = folder.bbsync(keyed, {"db", "migrate"});
    INFO(encrypted.err);
    CHECK(encrypted.exit_code == 0);
    CHECK(contains(encrypted.err, "encrypted 1 plaintext refresh token(s)"));
    CHECK_FALSE(contains(read_bytes(folder.database()), "PLAINTEXT-MARKER"));

    const auto keyless = folder.bbsync(plain, {"db", "migrate"});
    INFO(keyless.err);
    CHECK(keyless.exit_code == 2);
    CHECK(contains(keyless.err, "encrypted but no token key is configured"));

    const auto other_key = folder.write_key("other-key");
    const auto other = folder.write_config("other.conf", "tokens.keyFile = " + other_key + "\n");
    const auto rejected = folder.bbsync(other, {"db", "migrate"});
    INFO(rejected.err);
    CHECK(rejected.exit_code == 2);
    CHECK(contains(rejected.err, other_key));
    CHECK(contains(rejected.err, "tokens.previousKeyFile"));
}

TEST_CASE("config check rejects bad key file", "[security][tokens][cli]")
{
    cli_folder folder;
    const auto shared_key = folder.write_key("token-key");
    fs::permissions(shared_key, fs::perms::others_read, fs::perm_options::add);
    const auto config = folder.write_config("bbsync.conf", "tokens.keyFile = " + shared_key + "\n");

    const auto checked = folder.bbsync(config, {"config", "check"});

    INFO(checked.err);
    CHECK(checked.exit_code == 2);
    CHECK(contains(checked.err, "chmod 600 " + shared_key));
}

TEST_CASE("core dumps are disabled for the process", "[security]")
{
    REQUIRE(bbsync::disable_core_dumps());

    rlimit limit{};
    REQUIRE(::getrlimit(RLIMIT_CORE, &limit) == 0);
    CHECK(limit.rlim_cur == 0);
    CHECK(limit.rlim_max == 0);
#if !defined(__SANITIZE_ADDRESS__)
    CHECK(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
#endif
}

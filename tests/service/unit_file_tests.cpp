#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "service_test_support.hpp"

namespace {

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

// Fills in a unit template the way cmake/install_rules.cmake does, with the built binary in
// place of the installed one so that systemd-analyze can check that it exists.
std::string render_unit(const std::string& template_name)
{
    auto text = read_text(std::string(BBSYNC_SOURCE_DIR) + "/systemd/" + template_name);
    const std::string binary_dir = std::filesystem::path(BBSYNC_EXECUTABLE).parent_path().string();
    text = std::regex_replace(text, std::regex("@CMAKE_INSTALL_FULL_BINDIR@"), binary_dir);
    text = std::regex_replace(text, std::regex("@CMAKE_INSTALL_FULL_DOCDIR@"), "/usr/share/doc/bbsync");
    return text;
}

bool have_systemd_analyze() { return bbsync::test::run_command("systemd-analyze --version").exit_code == 0; }

}  // namespace

TEST_CASE("unit files pass systemd-analyze verify", "[service]")
{
    if (!have_systemd_analyze())
    {
        FAIL("systemd-analyze is not installed: scripts/install-deps.sh installs the systemd package");
    }
    bbsync::test::temp_folder folder;
    const auto service = folder.write("bbsync.service", render_unit("bbsync.service.in"), 0644);
    folder.write("bbsync-once.service", render_unit("bbsync-once.service.in"), 0644);
    const auto timer = folder.write(
        "bbsync.timer", read_text(std::string(BBSYNC_SOURCE_DIR) + "/systemd/bbsync.timer"), 0644
    );

    const auto result = bbsync::test::run_command(
        "cd " + folder.path().string() +
        " && systemd-analyze verify --man=no bbsync.service bbsync-once.service bbsync.timer"
    );
    INFO(result.output);
    CHECK(result.exit_code == 0);
    CHECK(result.output.find("bbsync") == std::string::npos);
    (void)service;
    (void)timer;
}

TEST_CASE("service unit exposure is at most 1.1", "[service]")
{
    if (!have_systemd_analyze())
    {
        FAIL("systemd-analyze is not installed: scripts/install-deps.sh installs the systemd package");
    }
    bbsync::test::temp_folder folder;
    const auto service = folder.write("bbsync.service", render_unit("bbsync.service.in"), 0644);
    const auto result =
        bbsync::test::run_command("systemd-analyze security --offline=true --no-pager " + service.string());
    INFO(result.output);
    std::smatch match;
    const std::regex overall("Overall exposure level for bbsync\\.service: ([0-9]+\\.[0-9])");
    REQUIRE(std::regex_search(result.output, match, overall));
    CHECK(std::stod(match[1].str()) <= 1.1);
}

#ifndef BBSYNC_TESTS_SERVICE_SERVICE_TEST_SUPPORT_HPP
#define BBSYNC_TESTS_SERVICE_SERVICE_TEST_SUPPORT_HPP

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>

namespace bbsync::test {

// A private temporary folder, removed with everything in it on destruction.
class temp_folder
{
public:
    temp_folder()
    {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "bbsync-service-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr)
        {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~temp_folder()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

    std::filesystem::path write(const std::string& name, const std::string& content, mode_t mode = 0600) const
    {
        const auto file = path_ / name;
        std::ofstream(file) << content;
        chmod(file.c_str(), mode);
        return file;
    }

private:
    std::filesystem::path path_;
};

struct command_result
{
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

// Runs a shell command and returns its exit code and combined output.
inline command_result run_command(const std::string& command)
{
    command_result result;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr)
    {
        return result;
    }
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr)
    {
        result.output += buffer.data();
    }
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace bbsync::test

#endif

#ifndef BBSYNC_TESTS_INTEGRATION_TEMPORARY_DIRECTORY_HPP
#define BBSYNC_TESTS_INTEGRATION_TEMPORARY_DIRECTORY_HPP

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace bbsync::integration_tests {

// A fresh directory under /tmp named after `prefix`, removed with its contents by the
// destructor unless the environment variable BBSYNC_KEEP_TEST_DIRS is set (to inspect logs
// after a failure).
class temporary_directory
{
public:
    explicit temporary_directory(const std::string& prefix)
    {
        std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr)
        {
            throw std::runtime_error(
                "failed to create a temporary directory from the pattern " + pattern + ": check /tmp"
            );
        }
        path_ = pattern;
    }

    ~temporary_directory()
    {
        if (std::getenv("BBSYNC_KEEP_TEST_DIRS") == nullptr)
        {
            std::error_code ignored;
            std::filesystem::remove_all(path_, ignored);
        }
    }

    temporary_directory(const temporary_directory&) = delete;
    temporary_directory& operator=(const temporary_directory&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace bbsync::integration_tests

#endif

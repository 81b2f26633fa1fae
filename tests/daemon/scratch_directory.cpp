#include "scratch_directory.hpp"

#include <stdlib.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>

namespace bbsync::test {

scratch_directory::scratch_directory()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "bbsync-daemon-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
    {
        throw std::system_error(
            errno, std::generic_category(), "failed to create a directory from " + pattern
        );
    }
    path_ = pattern;
}

scratch_directory::~scratch_directory()
{
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string scratch_directory::file(const std::string& name) const { return (path_ / name).string(); }

std::string scratch_directory::write_file(const std::string& name, const std::string& content, mode_t mode)
    const
{
    const auto target = file(name);
    {
        std::ofstream out(target, std::ios::binary | std::ios::trunc);
        out << content;
        if (!out)
        {
            throw std::runtime_error("failed to write " + target);
        }
    }
    if (chmod(target.c_str(), mode) != 0)
    {
        throw std::system_error(errno, std::generic_category(), "failed to chmod " + target);
    }
    return target;
}

}  // namespace bbsync::test

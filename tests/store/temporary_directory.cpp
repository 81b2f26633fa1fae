#include "temporary_directory.hpp"

#include <stdlib.h>

#include <cerrno>
#include <system_error>

namespace bbsync::store::test {

temporary_directory::temporary_directory()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "bbsync-store-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
    {
        throw std::system_error(
            errno, std::generic_category(), "failed to create a directory from " + pattern
        );
    }
    path_ = pattern;
}

temporary_directory::~temporary_directory()
{
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string temporary_directory::file(const std::string& name) const { return (path_ / name).string(); }

}  // namespace bbsync::store::test

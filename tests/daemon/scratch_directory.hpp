#ifndef BBSYNC_TESTS_DAEMON_SCRATCH_DIRECTORY_HPP
#define BBSYNC_TESTS_DAEMON_SCRATCH_DIRECTORY_HPP

#include <filesystem>
#include <string>
#include <sys/types.h>

namespace bbsync::test {

// A fresh directory under the system temporary directory, removed with its contents by the
// destructor.
class scratch_directory
{
public:
    // Creates the directory. Throws std::system_error when it cannot be created.
    scratch_directory();

    scratch_directory(const scratch_directory&) = delete;
    scratch_directory& operator=(const scratch_directory&) = delete;
    ~scratch_directory();

    // Returns the path of `name` inside the directory.
    std::string file(const std::string& name) const;

    // Writes `content` to `name` inside the directory, sets its permission bits to `mode`
    // (umask does not apply) and returns its path. Throws std::runtime_error or
    // std::system_error when the file cannot be written.
    std::string write_file(const std::string& name, const std::string& content, mode_t mode = 0600) const;

    // Returns the directory's path.
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace bbsync::test

#endif

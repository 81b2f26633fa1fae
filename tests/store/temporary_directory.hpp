#ifndef BBSYNC_TESTS_STORE_TEMPORARY_DIRECTORY_HPP
#define BBSYNC_TESTS_STORE_TEMPORARY_DIRECTORY_HPP

#include <filesystem>
#include <string>

namespace bbsync::store::test {

// A fresh directory under the system temporary directory, removed with its contents by the
// destructor.
class temporary_directory
{
public:
    // Creates the directory. Throws std::system_error when it cannot be created.
    temporary_directory();

    temporary_directory(const temporary_directory&) = delete;
    temporary_directory& operator=(const temporary_directory&) = delete;
    ~temporary_directory();

    // Returns the path of `name` inside the directory, as a string for database::open.
    std::string file(const std::string& name) const;

private:
    std::filesystem::path path_;
};

}  // namespace bbsync::store::test

#endif

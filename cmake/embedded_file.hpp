#ifndef BBSYNC_EMBEDDED_FILE_HPP
#define BBSYNC_EMBEDDED_FILE_HPP

#include <span>
#include <string_view>

namespace bbsync {

// A file compiled into the binary by the bbsync_embed() CMake function.
struct embedded_file
{
    std::string_view name;
    std::string_view content;
};

}  // namespace bbsync

#endif

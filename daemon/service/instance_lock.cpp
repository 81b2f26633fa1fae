#include "daemon/service/instance_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/file.h>

namespace bbsync {

instance_lock::instance_lock(const std::string& database_path)
{
    const auto path = database_path + ".lock";
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
    {
        throw std::runtime_error("cannot create lock file " + path + ": " + std::strerror(errno));
    }
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0)
    {
        char holder[32] = {};
        const auto size = pread(fd_, holder, sizeof holder - 1, 0);
        close(fd_);
        fd_ = -1;
        throw std::runtime_error(
            "another bbsync process" +
            (size > 0 ? " (pid " + std::string(holder, static_cast<std::size_t>(size)) + ")" : std::string()
            ) +
            " is running jobs on this database (lock " + path + "); stop it first, e.g. systemctl stop bbsync"
        );
    }
    const auto pid = std::to_string(getpid());
    if (ftruncate(fd_, 0) == 0)
    {
        [[maybe_unused]] auto written = pwrite(fd_, pid.data(), pid.size(), 0);
    }
}

instance_lock::~instance_lock()
{
    if (fd_ >= 0)
    {
        close(fd_);
    }
}

}  // namespace bbsync

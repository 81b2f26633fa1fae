#ifndef BBSYNC_DAEMON_SERVICE_INSTANCE_LOCK_HPP
#define BBSYNC_DAEMON_SERVICE_INSTANCE_LOCK_HPP

#include <string>

namespace bbsync {

// An exclusive lock on "<database>.lock", held for the lifetime of the object, so that only
// one process at a time runs sync jobs on a database. Two processes would refresh the same
// one-time refresh tokens and mark each other's running jobs as interrupted.
class instance_lock
{
public:
    // Takes the lock without waiting. Throws std::runtime_error naming the lock file, and the
    // pid of the holder when it is known, if another process holds it or the file cannot be
    // created.
    explicit instance_lock(const std::string& database_path);
    ~instance_lock();
    instance_lock(const instance_lock&) = delete;
    instance_lock& operator=(const instance_lock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace bbsync

#endif

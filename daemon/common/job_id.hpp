#ifndef BBSYNC_DAEMON_COMMON_JOB_ID_HPP
#define BBSYNC_DAEMON_COMMON_JOB_ID_HPP

#include <string>

namespace bbsync {

// Returns a random (version 4) UUID in lower-case text form, 36 characters. Throws
// std::runtime_error if the system's random source fails.
std::string make_job_id();

}  // namespace bbsync

#endif

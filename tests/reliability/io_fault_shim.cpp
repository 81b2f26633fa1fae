// An LD_PRELOAD library that makes writes and syncs of chosen files fail, to check how bbsync
// reacts to a full disk or a failing disk without needing root to mount a small file system.
//
// Environment:
//   IO_FAULT_SHIM_PATH_PREFIX    only files whose path starts with this are affected (the
//                                 database path covers the database, its -wal and -journal)
//   IO_FAULT_SHIM_ENOSPC_AFTER   write, pwrite and pwrite64 fail with ENOSPC once this many
//                                 bytes were written to affected files
//   IO_FAULT_SHIM_EIO_AFTER      fsync and fdatasync fail with EIO after this many calls on
//                                 affected files succeeded
// A failure is reported once on standard error, so the test can tell that the shim fired.

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using write_function = ssize_t (*)(int, const void*, size_t);
using pwrite_function = ssize_t (*)(int, const void*, size_t, off_t);
using pwrite64_function = ssize_t (*)(int, const void*, size_t, off64_t);
using sync_function = int (*)(int);

std::atomic<long long> bytes_written{0};
std::atomic<long long> syncs_done{0};
std::atomic<bool> reported_enospc{false};
std::atomic<bool> reported_eio{false};

long long limit_from(const char* name)
{
    const char* text = std::getenv(name);
    return text != nullptr ? std::atoll(text) : -1;
}

bool affected(int fd)
{
    const char* prefix = std::getenv("IO_FAULT_SHIM_PATH_PREFIX");
    if (prefix == nullptr || *prefix == '\0' || fd < 0)
    {
        return false;
    }
    char link[64];
    char target[PATH_MAX];
    std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    const auto length = ::readlink(link, target, sizeof(target) - 1);
    if (length <= 0)
    {
        return false;
    }
    target[length] = '\0';
    return std::strncmp(target, prefix, std::strlen(prefix)) == 0;
}

void report_once(std::atomic<bool>& reported, const char* text)
{
    if (!reported.exchange(true))
    {
        [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, text, std::strlen(text));
    }
}

// Returns true when a write of `count` bytes to `fd` must fail with ENOSPC.
bool disk_full(int fd, size_t count)
{
    const long long limit = limit_from("IO_FAULT_SHIM_ENOSPC_AFTER");
    if (limit < 0 || !affected(fd))
    {
        return false;
    }
    if (bytes_written.fetch_add(static_cast<long long>(count)) + static_cast<long long>(count) > limit)
    {
        report_once(reported_enospc, "io fault shim: returning ENOSPC from now on\n");
        errno = ENOSPC;
        return true;
    }
    return false;
}

// Returns true when this sync of `fd` must fail with EIO.
bool sync_fails(int fd)
{
    const long long limit = limit_from("IO_FAULT_SHIM_EIO_AFTER");
    if (limit < 0 || !affected(fd))
    {
        return false;
    }
    if (syncs_done.fetch_add(1) >= limit)
    {
        report_once(reported_eio, "io fault shim: returning EIO from fsync from now on\n");
        errno = EIO;
        return true;
    }
    return false;
}

template <typename Function>
Function next(const char* name)
{
    return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C"
{

    ssize_t write(int fd, const void* data, size_t count)
    {
        static const auto real = next<write_function>("write");
        return disk_full(fd, count) ? -1 : real(fd, data, count);
    }

    ssize_t pwrite(int fd, const void* data, size_t count, off_t offset)
    {
        static const auto real = next<pwrite_function>("pwrite");
        return disk_full(fd, count) ? -1 : real(fd, data, count, offset);
    }

    ssize_t pwrite64(int fd, const void* data, size_t count, off64_t offset)
    {
        static const auto real = next<pwrite64_function>("pwrite64");
        return disk_full(fd, count) ? -1 : real(fd, data, count, offset);
    }

    int fsync(int fd)
    {
        static const auto real = next<sync_function>("fsync");
        return sync_fails(fd) ? -1 : real(fd);
    }

    int fdatasync(int fd)
    {
        static const auto real = next<sync_function>("fdatasync");
        return sync_fails(fd) ? -1 : real(fd);
    }

}  // extern "C"

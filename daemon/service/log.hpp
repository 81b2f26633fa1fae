#ifndef BBSYNC_DAEMON_SERVICE_LOG_HPP
#define BBSYNC_DAEMON_SERVICE_LOG_HPP

#include <functional>
#include <string>
#include <string_view>

namespace bbsync::log {

// syslog priorities; journald reads a "<N>" line prefix as the priority.
enum class level
{
    err = 3,
    warning = 4,
    notice = 5,
    info = 6,
    debug = 7,
};

// Parses "error", "warning", "notice", "info" or "debug". Returns false for anything else.
bool parse_level(std::string_view text, level& out);

using sink = std::function<void(level, std::string_view line)>;

// Configures the process-wide logger. Lines go to stderr: with a "<N>" priority prefix when
// stderr is the journal (JOURNAL_STREAM matches it), with a UTC timestamp when stderr is a
// terminal, bare otherwise. Single-threaded by design, so there is no lock.
void set_threshold(level threshold);
level threshold();

// Replaces the output with `output` (tests use a string sink); an empty sink restores stderr.
void set_sink(sink output);

// Writes one record "component: message". The message must not contain secrets or PHI:
// callers name patients by internal key and jobs by job id.
void write(level severity, std::string_view component, std::string_view message);

inline void error(std::string_view component, std::string_view message)
{
    write(level::err, component, message);
}
inline void warning(std::string_view component, std::string_view message)
{
    write(level::warning, component, message);
}
inline void notice(std::string_view component, std::string_view message)
{
    write(level::notice, component, message);
}
inline void info(std::string_view component, std::string_view message)
{
    write(level::info, component, message);
}
inline void debug(std::string_view component, std::string_view message)
{
    write(level::debug, component, message);
}

}  // namespace bbsync::log

#endif

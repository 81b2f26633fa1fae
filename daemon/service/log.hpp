#ifndef BBSYNC_DAEMON_SERVICE_LOG_HPP
#define BBSYNC_DAEMON_SERVICE_LOG_HPP

#include <chrono>
#include <cstddef>
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

// Limits on repeated lines. Lines with the same level, component and message template count
// as repeats. The template is the message with every number, hex id and UUID that starts a
// word replaced by '#'. So "job 41 failed" and "job 42 failed" share one template, but
// "payer.http_429" and "payer.http_503" do not. A window starts at the first line of a
// template. Its first `burst` lines pass and the rest are counted. After the window has ended,
// one line "suppressed K similar messages" at the same level reports them, written before the
// next line that reaches the logger or by flush_suppressed.
// NOTE: nothing wakes the logger when a window ends, so a quiet process reports late.
struct repeat_limit
{
    std::chrono::steady_clock::duration window = std::chrono::seconds(60);
    // Lines per template and window that pass; 0 turns the limit off.
    std::size_t burst = 20;
    // The lowest severity that is limited. Info and debug lines grow with the number of
    // jobs, not with failures, and log.level can silence them, so they pass unlimited.
    level least_severe = level::notice;
};

// Replaces the repeat limit and drops all counted repeats without writing their summaries.
void set_repeat_limit(const repeat_limit& limit);

// Replaces the clock the repeat limit reads (tests use a fake clock); an empty function
// restores std::chrono::steady_clock.
void set_clock(std::function<std::chrono::steady_clock::time_point()> now);

// Writes the summary line of every window that has ended, or of every window when `all` is
// true (call it with true before the process exits). Never throws except std::bad_alloc.
void flush_suppressed(bool all = false);

// Returns the template that the repeat limit compares: `message` with every word-initial run of
// digits, hex letters and '-' that contains a digit replaced by '#'.
std::string message_template(std::string_view message);

// Writes one record "component: message", unless the repeat limit suppresses it. Summaries of
// windows that have ended are written first. The message must not contain secrets or PHI:
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

#include "daemon/service/log.hpp"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <sys/stat.h>
#include <tuple>

namespace bbsync::log {
namespace {

enum class style
{
    bare,
    journal,
    terminal,
};

// JOURNAL_STREAM is "<device>:<inode>" of the journal socket systemd gave us as stderr.
bool stderr_is_journal()
{
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr)
    {
        return false;
    }
    struct stat info
    {};
    if (fstat(STDERR_FILENO, &info) != 0)
    {
        return false;
    }
    const auto expected = std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
    return expected == stream;
}

style detect_style()
{
    if (stderr_is_journal())
    {
        return style::journal;
    }
    return isatty(STDERR_FILENO) ? style::terminal : style::bare;
}

// Repeats of one (level, component, template) key in its current window.
struct repeat_window
{
    std::chrono::steady_clock::time_point started;
    std::size_t written = 0;
    std::size_t suppressed = 0;
};

using repeat_key = std::tuple<level, std::string, std::string>;

// Beyond this many keys, new keys are not tracked and their lines pass unlimited, so that a
// flood of distinct messages cannot grow the table without bound.
constexpr std::size_t max_tracked_templates = 1024;

struct logger_state
{
    level threshold = level::info;
    style output_style = detect_style();
    sink output;
    repeat_limit limit;
    std::function<std::chrono::steady_clock::time_point()> clock;
    std::map<repeat_key, repeat_window> windows;

    std::chrono::steady_clock::time_point now() const
    {
        return clock ? clock() : std::chrono::steady_clock::now();
    }
};

logger_state& state()
{
    static logger_state instance;
    return instance;
}

std::string utc_timestamp()
{
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[64];
    std::snprintf(
        text,
        sizeof text,
        "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
        parts.tm_year + 1900,
        parts.tm_mon + 1,
        parts.tm_mday,
        parts.tm_hour,
        parts.tm_min,
        parts.tm_sec,
        static_cast<int>(millis)
    );
    return text;
}

std::string_view level_name(level severity)
{
    switch (severity)
    {
    case level::err: return "error";
    case level::warning: return "warning";
    case level::notice: return "notice";
    case level::info: return "info";
    case level::debug: return "debug";
    }
    return "info";
}

bool is_hex_or_dash(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '-'; }

bool is_word_character(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

void emit(logger_state& current, level severity, const std::string& line)
{
    if (current.output)
    {
        current.output(severity, line);
        return;
    }

    std::string record;
    switch (current.output_style)
    {
    case style::journal: record = "<" + std::to_string(static_cast<int>(severity)) + ">" + line; break;
    case style::terminal:
        record = utc_timestamp() + " " + std::string(level_name(severity)) + " " + line;
        break;
    case style::bare: record = std::string(level_name(severity)) + " " + line; break;
    }
    record.push_back('\n');
    std::fwrite(record.data(), 1, record.size(), stderr);
}

void emit_summary(logger_state& current, const repeat_key& key, const repeat_window& window)
{
    const auto& [severity, component, pattern] = key;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(current.limit.window).count();
    emit(
        current,
        severity,
        component + ": suppressed " + std::to_string(window.suppressed) + " similar messages in " +
            std::to_string(seconds) + " s: \"" + pattern + "\""
    );
}

// Writes the summaries of ended windows (or of all windows) and removes those windows.
void close_windows(logger_state& current, bool all)
{
    const auto now = current.now();
    for (auto it = current.windows.begin(); it != current.windows.end();)
    {
        if (!all && now - it->second.started < current.limit.window)
        {
            ++it;
            continue;
        }
        if (it->second.suppressed > 0)
        {
            emit_summary(current, it->first, it->second);
        }
        it = current.windows.erase(it);
    }
}

// Returns true when the line may be written, counting it in its window.
bool admit(logger_state& current, level severity, std::string_view component, std::string_view message)
{
    if (current.limit.burst == 0 || static_cast<int>(severity) > static_cast<int>(current.limit.least_severe))
    {
        return true;
    }
    repeat_key key{severity, std::string(component), message_template(message)};
    auto found = current.windows.find(key);
    if (found == current.windows.end())
    {
        if (current.windows.size() >= max_tracked_templates)
        {
            return true;
        }
        found = current.windows.emplace(std::move(key), repeat_window{current.now(), 0, 0}).first;
    }
    auto& window = found->second;
    if (window.written < current.limit.burst)
    {
        ++window.written;
        return true;
    }
    ++window.suppressed;
    return false;
}

}  // namespace

std::string message_template(std::string_view message)
{
    std::string pattern;
    pattern.reserve(message.size());
    std::size_t i = 0;
    while (i < message.size())
    {
        const bool word_start = i == 0 || !is_word_character(message[i - 1]);
        if (word_start && is_hex_or_dash(message[i]))
        {
            std::size_t end = i;
            bool has_digit = false;
            while (end < message.size() && is_hex_or_dash(message[end]))
            {
                has_digit = has_digit || std::isdigit(static_cast<unsigned char>(message[end])) != 0;
                ++end;
            }
            // A run glued to further letters ("3rd", "0x1f") is part of a word, not a number.
            const bool word_end = end == message.size() || !is_word_character(message[end]);
            if (has_digit && word_end)
            {
                pattern.push_back('#');
                i = end;
                continue;
            }
            pattern.append(message.substr(i, end - i));
            i = end;
            continue;
        }
        pattern.push_back(message[i]);
        ++i;
    }
    return pattern;
}

bool parse_level(std::string_view text, level& out)
{
    for (auto candidate : {level::err, level::warning, level::notice, level::info, level::debug})
    {
        if (text == level_name(candidate))
        {
            out = candidate;
            return true;
        }
    }
    return false;
}

void set_threshold(level threshold) { state().threshold = threshold; }

level threshold() { return state().threshold; }

void set_sink(sink output) { state().output = std::move(output); }

void set_repeat_limit(const repeat_limit& limit)
{
    state().limit = limit;
    state().windows.clear();
}

void set_clock(std::function<std::chrono::steady_clock::time_point()> now) { state().clock = std::move(now); }

void flush_suppressed(bool all) { close_windows(state(), all); }

void write(level severity, std::string_view component, std::string_view message)
{
    auto& current = state();
    if (static_cast<int>(severity) > static_cast<int>(current.threshold))
    {
        return;
    }

    close_windows(current, false);
    if (!admit(current, severity, component, message))
    {
        return;
    }

    std::string line;
    line.reserve(component.size() + message.size() + 2);
    line.append(component).append(": ").append(message);
    emit(current, severity, line);
}

}  // namespace bbsync::log

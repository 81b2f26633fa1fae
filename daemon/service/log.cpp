#include "daemon/service/log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <sys/stat.h>

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

struct logger_state
{
    level threshold = level::info;
    style output_style = detect_style();
    sink output;
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

}  // namespace

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

void write(level severity, std::string_view component, std::string_view message)
{
    auto& current = state();
    if (static_cast<int>(severity) > static_cast<int>(current.threshold))
    {
        return;
    }

    std::string line;
    line.reserve(component.size() + message.size() + 40);
    line.append(component).append(": ").append(message);
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

}  // namespace bbsync::log

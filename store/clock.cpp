#include "store/clock.hpp"

#include <cstdio>

namespace bbsync::store {

std::string to_iso(std::chrono::system_clock::time_point time)
{
    using namespace std::chrono;

    const auto milliseconds_since_epoch = floor<milliseconds>(time);
    const auto day = floor<days>(milliseconds_since_epoch);
    const year_month_day date{day};
    const hh_mm_ss clock_time{milliseconds_since_epoch - day};

    char text[32];
    std::snprintf(
        text,
        sizeof text,
        "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
        static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()),
        static_cast<unsigned>(date.day()),
        static_cast<int>(clock_time.hours().count()),
        static_cast<int>(clock_time.minutes().count()),
        static_cast<int>(clock_time.seconds().count()),
        static_cast<int>(clock_time.subseconds().count())
    );
    return text;
}

std::string utc_now_iso() { return to_iso(std::chrono::system_clock::now()); }

}  // namespace bbsync::store

// Draws line charts into a PNG file without any plotting package, for the benchmark records.
//
// Usage: bench_plot SPEC OUT.png
// SPEC is a text file of commands, one a line. Panels are laid out left to right.
//   panel TITLE;X LABEL;Y LABEL;AXES   AXES is linlin, loglog, loglin or linlog (x then y)
//   points R G B                       starts a series drawn as markers joined by lines
//   line R G B                         starts a series drawn as a thin line only
//   p X Y                              adds a point to the current series
// Text is drawn with a built-in 5x7 font in capitals; other characters are drawn as blanks.

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct color
{
    std::uint8_t r, g, b;
};

struct series
{
    color ink{};
    bool markers = true;
    std::vector<std::pair<double, double>> points;
};

struct panel
{
    std::string title, x_label, y_label;
    bool log_x = false, log_y = false;
    std::vector<series> lines;
};

// Rows of each glyph, top to bottom, five pixels wide.
const std::map<char, std::array<const char*, 7>>& font()
{
    static const std::map<char, std::array<const char*, 7>> glyphs{
        {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
        {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
        {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
        {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
        {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
        {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
        {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
        {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
        {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
        {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
        {'A', {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
        {'B', {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}},
        {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
        {'D', {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}},
        {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
        {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
        {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}},
        {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
        {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
        {'J', {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}},
        {'K', {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}},
        {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
        {'M', {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}},
        {'N', {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}},
        {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
        {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
        {'Q', {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}},
        {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
        {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
        {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
        {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
        {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
        {'W', {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}},
        {'X', {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}},
        {'Y', {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}},
        {'Z', {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}},
        {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
        {',', {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."}},
        {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
        {'+', {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."}},
        {'=', {".....", ".....", "#####", ".....", "#####", ".....", "....."}},
        {'/', {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."}},
        {':', {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}},
        {'(', {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."}},
        {')', {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."}},
        {'%', {"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"}},
        {'*', {".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."}},
        {'<', {"...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."}},
        {'>', {".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."}},
    };
    return glyphs;
}

class canvas
{
public:
    canvas(int width, int height)
        : width_(width), height_(height), pixels_(std::size_t(width * height) * 3, 255)
    {}

    void set(int x, int y, color ink)
    {
        if (x < 0 || y < 0 || x >= width_ || y >= height_)
        {
            return;
        }
        auto* pixel = &pixels_[(std::size_t(y) * std::size_t(width_) + std::size_t(x)) * 3];
        pixel[0] = ink.r;
        pixel[1] = ink.g;
        pixel[2] = ink.b;
    }

    void fill(int x, int y, int w, int h, color ink)
    {
        for (int j = y; j < y + h; ++j)
        {
            for (int i = x; i < x + w; ++i)
            {
                set(i, j, ink);
            }
        }
    }

    // Draws a line with Bresenham's algorithm, as squares of `thickness` pixels.
    void line(int x0, int y0, int x1, int y1, color ink, int thickness)
    {
        const int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
        const int dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
        int error = dx + dy;
        for (;;)
        {
            fill(x0 - thickness / 2, y0 - thickness / 2, thickness, thickness, ink);
            if (x0 == x1 && y0 == y1)
            {
                break;
            }
            const int twice = 2 * error;
            if (twice >= dy)
            {
                error += dy;
                x0 += sx;
            }
            if (twice <= dx)
            {
                error += dx;
                y0 += sy;
            }
        }
    }

    // Draws text with its top-left corner at (x, y), or rotated a quarter turn anticlockwise
    // with its bottom-left corner at (x, y) when `vertical` is set. Each font pixel is scale^2.
    void text(int x, int y, const std::string& value, int scale, color ink, bool vertical = false)
    {
        int advance = 0;
        for (char c : value)
        {
            const auto upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            const auto found = font().find(upper);
            if (found != font().end())
            {
                for (int row = 0; row < 7; ++row)
                {
                    for (int col = 0; col < 5; ++col)
                    {
                        if (found->second[std::size_t(row)][col] != '#')
                        {
                            continue;
                        }
                        if (vertical)
                        {
                            fill(x + row * scale, y - (advance + col + 1) * scale, scale, scale, ink);
                        }
                        else
                        {
                            fill(x + (advance + col) * scale, y + row * scale, scale, scale, ink);
                        }
                    }
                }
            }
            advance += 6;
        }
    }

    static int text_width(const std::string& value, int scale) { return int(value.size()) * 6 * scale; }

    void write_png(const std::string& path) const
    {
        std::vector<unsigned char> raw;
        raw.reserve(pixels_.size() + std::size_t(height_));
        for (int y = 0; y < height_; ++y)
        {
            raw.push_back(0);
            const auto* row = &pixels_[std::size_t(y) * std::size_t(width_) * 3];
            raw.insert(raw.end(), row, row + std::size_t(width_) * 3);
        }
        uLongf packed_size = compressBound(uLong(raw.size()));
        std::vector<unsigned char> packed(packed_size);
        if (compress2(packed.data(), &packed_size, raw.data(), uLong(raw.size()), 9) != Z_OK)
        {
            throw std::runtime_error("zlib compress2 failed");
        }
        packed.resize(packed_size);

        std::ofstream out(path, std::ios::binary);
        if (!out)
        {
            throw std::runtime_error("cannot write " + path);
        }
        const unsigned char signature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        out.write(reinterpret_cast<const char*>(signature), sizeof signature);
        std::vector<unsigned char> header;
        put_u32(header, std::uint32_t(width_));
        put_u32(header, std::uint32_t(height_));
        header.insert(header.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, no interlace
        write_chunk(out, "IHDR", header);
        write_chunk(out, "IDAT", packed);
        write_chunk(out, "IEND", {});
    }

private:
    static void put_u32(std::vector<unsigned char>& out, std::uint32_t value)
    {
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            out.push_back(static_cast<unsigned char>(value >> shift));
        }
    }

    static void write_chunk(std::ofstream& out, const char* type, const std::vector<unsigned char>& data)
    {
        std::vector<unsigned char> chunk;
        put_u32(chunk, std::uint32_t(data.size()));
        chunk.insert(chunk.end(), type, type + 4);
        chunk.insert(chunk.end(), data.begin(), data.end());
        const auto crc = crc32(crc32(0, nullptr, 0), chunk.data() + 4, uInt(chunk.size() - 4));
        put_u32(chunk, std::uint32_t(crc));
        out.write(reinterpret_cast<const char*>(chunk.data()), std::streamsize(chunk.size()));
    }

    int width_, height_;
    std::vector<unsigned char> pixels_;
};

std::vector<panel> read_spec(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
    {
        throw std::runtime_error("cannot read " + path);
    }
    std::vector<panel> panels;
    std::string text;
    int line_number = 0;
    while (std::getline(in, text))
    {
        ++line_number;
        std::istringstream words(text);
        std::string command;
        words >> command;
        if (command.empty())
        {
            continue;
        }
        if (command == "panel")
        {
            std::string rest;
            std::getline(words >> std::ws, rest);
            std::vector<std::string> fields;
            std::istringstream parts(rest);
            for (std::string field; std::getline(parts, field, ';');)
            {
                fields.push_back(field);
            }
            if (fields.size() != 4)
            {
                throw std::runtime_error(
                    path + ":" + std::to_string(line_number) + ": panel needs TITLE;X;Y;AXES"
                );
            }
            panel next{
                fields[0],
                fields[1],
                fields[2],
                fields[3].substr(0, 3) == "log",
                fields[3].substr(3) == "log",
                {}};
            panels.push_back(next);
        }
        else if ((command == "points" || command == "line") && !panels.empty())
        {
            int r = 0, g = 0, b = 0;
            words >> r >> g >> b;
            panels.back().lines.push_back(series{
                color{std::uint8_t(r), std::uint8_t(g), std::uint8_t(b)}, command == "points", {}});
        }
        else if (command == "p" && !panels.empty() && !panels.back().lines.empty())
        {
            double x = 0, y = 0;
            if (!(words >> x >> y))
            {
                throw std::runtime_error(path + ":" + std::to_string(line_number) + ": p needs two numbers");
            }
            panels.back().lines.back().points.emplace_back(x, y);
        }
        else
        {
            throw std::runtime_error(
                path + ":" + std::to_string(line_number) + ": unknown or misplaced command " + command
            );
        }
    }
    return panels;
}

std::string tick_text(double value)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return buffer;
}

// Returns tick values spanning [low, high]: powers of ten on a log axis, 1-2-5 steps otherwise.
std::vector<double> ticks_of(double low, double high, bool log_axis)
{
    std::vector<double> ticks;
    if (log_axis)
    {
        for (double t = std::pow(10.0, std::floor(std::log10(low))); t <= high * 1.0001; t *= 10)
        {
            ticks.push_back(t);
        }
        return ticks;
    }
    const double raw = (high - low) / 5;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double factor : {1.0, 2.0, 5.0, 10.0})
    {
        if (factor * magnitude >= raw)
        {
            step = factor * magnitude;
            break;
        }
    }
    for (double t = std::ceil(low / step) * step; t <= high + step * 1e-9; t += step)
    {
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
}

void draw_panel(canvas& image, const panel& chart, int left, int width, int height)
{
    const color black{0, 0, 0}, grey{210, 210, 210};
    const int margin_left = 90, margin_right = 20, margin_top = 40, margin_bottom = 60;
    const int x0 = left + margin_left, x1 = left + width - margin_right;
    const int y0 = height - margin_bottom, y1 = margin_top;

    double min_x = 1e300, max_x = -1e300, min_y = 1e300, max_y = -1e300;
    for (const auto& line : chart.lines)
    {
        for (auto [x, y] : line.points)
        {
            min_x = std::min(min_x, x);
            max_x = std::max(max_x, x);
            min_y = std::min(min_y, y);
            max_y = std::max(max_y, y);
        }
    }
    if (min_x > max_x)
    {
        return;
    }
    if (chart.log_x)
    {
        min_x = std::pow(10.0, std::floor(std::log10(min_x)));
        max_x = std::pow(10.0, std::ceil(std::log10(max_x)));
    }
    if (chart.log_y)
    {
        min_y = std::pow(10.0, std::floor(std::log10(min_y)));
        max_y = std::pow(10.0, std::ceil(std::log10(max_y)));
    }
    else
    {
        min_y = std::min(0.0, min_y);
        max_y = max_y * 1.1;
    }
    if (!chart.log_x && min_x > 0)
    {
        min_x = 0;
    }
    if (max_x <= min_x)
    {
        max_x = min_x + 1;
    }
    if (max_y <= min_y)
    {
        max_y = min_y + 1;
    }
    auto to_x = [&](double x) {
        const double f = chart.log_x
                             ? (std::log10(x) - std::log10(min_x)) / (std::log10(max_x) - std::log10(min_x))
                             : (x - min_x) / (max_x - min_x);
        return x0 + int(std::lround(f * (x1 - x0)));
    };
    auto to_y = [&](double y) {
        const double f = chart.log_y
                             ? (std::log10(y) - std::log10(min_y)) / (std::log10(max_y) - std::log10(min_y))
                             : (y - min_y) / (max_y - min_y);
        return y0 - int(std::lround(f * (y0 - y1)));
    };

    for (double t : ticks_of(min_x, max_x, chart.log_x))
    {
        const int x = to_x(t);
        image.line(x, y0, x, y1, grey, 1);
        const auto label = tick_text(t);
        image.text(x - canvas::text_width(label, 2) / 2, y0 + 8, label, 2, black);
    }
    for (double t : ticks_of(min_y, max_y, chart.log_y))
    {
        const int y = to_y(t);
        image.line(x0, y, x1, y, grey, 1);
        const auto label = tick_text(t);
        image.text(x0 - 8 - canvas::text_width(label, 2), y - 7, label, 2, black);
    }
    image.line(x0, y0, x1, y0, black, 2);
    image.line(x0, y0, x0, y1, black, 2);
    image.text(left + (width - canvas::text_width(chart.title, 2)) / 2, 10, chart.title, 2, black);
    image.text(x0 + (x1 - x0 - canvas::text_width(chart.x_label, 2)) / 2, y0 + 32, chart.x_label, 2, black);
    image.text(
        left + 8, y1 + (y0 - y1 + canvas::text_width(chart.y_label, 2)) / 2, chart.y_label, 2, black, true
    );

    for (const auto& line : chart.lines)
    {
        for (std::size_t i = 1; i < line.points.size(); ++i)
        {
            image.line(
                to_x(line.points[i - 1].first),
                to_y(line.points[i - 1].second),
                to_x(line.points[i].first),
                to_y(line.points[i].second),
                line.ink,
                line.markers ? 2 : 1
            );
        }
        if (line.markers)
        {
            for (auto [x, y] : line.points)
            {
                image.fill(to_x(x) - 4, to_y(y) - 4, 9, 9, line.ink);
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 3)
    {
        std::fprintf(stderr, "usage: %s SPEC OUT.png\n", argv[0]);
        return 2;
    }
    try
    {
        const auto panels = read_spec(argv[1]);
        if (panels.empty())
        {
            throw std::runtime_error(std::string(argv[1]) + " defines no panel");
        }
        const int panel_width = 560, height = 420;
        canvas image(panel_width * int(panels.size()), height);
        for (std::size_t i = 0; i < panels.size(); ++i)
        {
            draw_panel(image, panels[i], int(i) * panel_width, panel_width, height);
        }
        image.write_png(argv[2]);
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "bench_plot: %s\n", e.what());
        return 1;
    }
    return 0;
}

// Hand-written SVG: a chart is a few hundred lines of text (<line>, <text>, <path>, <rect>).
// We map data to pixels with two affine maps, choose ticks with the 1-2-5 rule, and escape every
// label. The PNG path is compiled only when <stb/stb_image_write.h> exists.
#include "tutorials/common/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "core/error.h"
#include "core/atomic_file.h"
#include "tutorials/common/report.h"

#if __has_include(<stb/stb_image_write.h>)
#define MINIREC_HAVE_STB_WRITE 1
// The implementation of stb_image_write lives in this one file (it must be in exactly one).
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop
#else
#define MINIREC_HAVE_STB_WRITE 0
#endif

namespace minirec {

namespace {

// Distinguishable colours (a common qualitative palette), cycled when there are more series.
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string esc(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string num(double v) { return minirec::num("%.4g", v); }   // a tick or cell value
std::string px(double v) { return minirec::num("%.1f", v); }     // a coordinate in pixels

// The 1-2-5 rule: a step of 1, 2 or 5 times a power of ten giving about `target` ticks.
std::vector<double> nice_ticks(double lo, double hi, int target = 6) {
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag;
    const double step = (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
    std::vector<double> t;
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
        t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    return t;
}

}  // namespace

std::string line_chart_svg(const LineChart& c) {
    const double W = c.width, H = c.height;
    const double left = 70, right = 150, top = 40, bottom = 55;  // margins; the legend sits right
    const double pw = W - left - right, ph = H - top - bottom;
    auto usable = [&](double y) { return std::isfinite(y) && (!c.log_y || y > 0); };

    // Data ranges over the points we can draw.
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (const Series& s : c.series) {
        if (s.x.size() != s.y.size())
            arg_fail("line_chart_svg", "series '" + s.name + "': " + std::to_string(s.x.size()) + " x values vs " +
                                           std::to_string(s.y.size()) + " y values");
        for (size_t i = 0; i < s.x.size(); ++i) {
            if (!usable(s.y[i]) || !std::isfinite(s.x[i])) continue;
            const double y = c.log_y ? std::log10(s.y[i]) : s.y[i];
            x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
            y0 = std::min(y0, y), y1 = std::max(y1, y);
        }
    }
    if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // nothing drawable: empty axes
    if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
    if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
    std::vector<double> yt;
    if (c.log_y) {
        y0 = std::floor(y0), y1 = std::ceil(y1);  // whole decades
        if (y1 == y0) y1 += 1;
        for (double e = y0; e <= y1; e += 1) yt.push_back(e);
    } else {
        yt = nice_ticks(y0, y1);
        y0 = std::min(y0, yt.front()), y1 = std::max(y1, yt.back());
    }
    const std::vector<double> xt = nice_ticks(x0, x1);
    auto X = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
    auto Y = [&](double y) { return top + ph - (y - y0) / (y1 - y0) * ph; };

    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << c.width << "\" height=\"" << c.height
      << "\" viewBox=\"0 0 " << c.width << " " << c.height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect x=\"0\" y=\"0\" width=\"" << c.width << "\" height=\"" << c.height << "\" fill=\"white\"/>\n"
      << "<text x=\"" << px(left + pw / 2) << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" << esc(c.title)
      << "</text>\n";
    // Grid and tick labels.
    o << "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
    for (double t : xt) o << "<line x1=\"" << px(X(t)) << "\" y1=\"" << px(top) << "\" x2=\"" << px(X(t)) << "\" y2=\"" << px(top + ph) << "\"/>\n";
    for (double t : yt) o << "<line x1=\"" << px(left) << "\" y1=\"" << px(Y(t)) << "\" x2=\"" << px(left + pw) << "\" y2=\"" << px(Y(t)) << "\"/>\n";
    o << "</g>\n<g fill=\"#333333\">\n";
    for (double t : xt)
        o << "<text x=\"" << px(X(t)) << "\" y=\"" << px(top + ph + 18) << "\" text-anchor=\"middle\">" << num(t) << "</text>\n";
    for (double t : yt)
        o << "<text x=\"" << px(left - 8) << "\" y=\"" << px(Y(t) + 4) << "\" text-anchor=\"end\">"
          << (c.log_y ? num(std::pow(10.0, t)) : num(t)) << "</text>\n";
    o << "</g>\n";
    // Axes and their labels.
    o << "<rect x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(pw) << "\" height=\"" << px(ph)
      << "\" fill=\"none\" stroke=\"#333333\"/>\n"
      << "<text x=\"" << px(left + pw / 2) << "\" y=\"" << px(H - 12) << "\" text-anchor=\"middle\">" << esc(c.x_label) << "</text>\n"
      << "<text x=\"16\" y=\"" << px(top + ph / 2) << "\" text-anchor=\"middle\" transform=\"rotate(-90 16 "
      << px(top + ph / 2) << ")\">" << esc(c.y_label) << (c.log_y ? " (log scale)" : "") << "</text>\n";
    // One path per series: M starts a piece, L continues it; an unusable point ends the piece.
    for (size_t k = 0; k < c.series.size(); ++k) {
        const Series& s = c.series[k];
        const char* colour = kPalette[k % (sizeof kPalette / sizeof *kPalette)];
        std::string d;
        bool pen_down = false;
        for (size_t i = 0; i < s.x.size(); ++i) {
            if (!usable(s.y[i]) || !std::isfinite(s.x[i])) { pen_down = false; continue; }
            const double y = c.log_y ? std::log10(s.y[i]) : s.y[i];
            d += (pen_down ? " L" : " M") + px(X(s.x[i])) + " " + px(Y(y));
            pen_down = true;
        }
        o << "<path data-series=\"" << esc(s.name) << "\" d=\"" << d << "\" fill=\"none\" stroke=\"" << colour
          << "\" stroke-width=\"2\"/>\n";
        const double ly = top + 10 + 20.0 * static_cast<double>(k);
        o << "<line x1=\"" << px(left + pw + 12) << "\" y1=\"" << px(ly) << "\" x2=\"" << px(left + pw + 32) << "\" y2=\""
          << px(ly) << "\" stroke=\"" << colour << "\" stroke-width=\"3\"/>\n"
          << "<text x=\"" << px(left + pw + 38) << "\" y=\"" << px(ly + 4) << "\">" << esc(s.name) << "</text>\n";
    }
    o << "</svg>\n";
    return o.str();
}

void heat_colour(double t, unsigned char rgb[3]) {
    // Piecewise-linear through five anchors from dark blue through teal and green to yellow:
    // lightness rises monotonically, so the order of values survives greyscale printing.
    static const double A[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    if (!std::isfinite(t)) t = 0.0;
    t = std::min(1.0, std::max(0.0, t)) * 4.0;
    const int i = std::min(3, static_cast<int>(t));
    const double f = t - i;
    for (int k = 0; k < 3; ++k) rgb[k] = static_cast<unsigned char>(std::lround(A[i][k] + f * (A[i + 1][k] - A[i][k])));
}

static void check_heatmap(const char* op, const Heatmap& m) {
    if (m.rows < 1 || m.cols < 1 || m.values.size() != static_cast<size_t>(m.rows) * m.cols)
        arg_fail(op, std::to_string(m.values.size()) + " values for " + std::to_string(m.rows) + " x " +
                         std::to_string(m.cols) + " cells");
    if (!m.row_labels.empty() && m.row_labels.size() != static_cast<size_t>(m.rows)) arg_fail(op, "need one label per row");
    if (!m.col_labels.empty() && m.col_labels.size() != static_cast<size_t>(m.cols)) arg_fail(op, "need one label per column");
    if (m.cell < 1) arg_fail(op, "cell size must be >= 1");
}

static void value_range(const Heatmap& m, double& lo, double& hi) {
    lo = INFINITY, hi = -INFINITY;
    for (float v : m.values)
        if (std::isfinite(v)) lo = std::min(lo, static_cast<double>(v)), hi = std::max(hi, static_cast<double>(v));
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) hi = lo + 1;  // a constant map: every cell the bottom colour
}

std::string heatmap_svg(const Heatmap& m) {
    check_heatmap("heatmap_svg", m);
    double lo, hi;
    value_range(m, lo, hi);
    const double cell = m.cell, left = m.row_labels.empty() ? 40 : 110, top = m.col_labels.empty() ? 50 : 110;
    const double gw = cell * m.cols, gh = cell * m.rows;
    const double W = left + gw + 90, H = top + gh + 50;
    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(W) << "\" height=\"" << px(H) << "\" viewBox=\"0 0 "
      << px(W) << " " << px(H) << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<rect x=\"0\" y=\"0\" width=\"" << px(W) << "\" height=\"" << px(H) << "\" fill=\"white\"/>\n"
      << "<text x=\"" << px(left + gw / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << esc(m.title) << "</text>\n";
    unsigned char c[3];
    char colour[8];
    for (int r = 0; r < m.rows; ++r)
        for (int k = 0; k < m.cols; ++k) {
            const float v = m.values[static_cast<size_t>(r) * m.cols + k];
            heat_colour((v - lo) / (hi - lo), c);
            std::snprintf(colour, sizeof colour, "#%02x%02x%02x", c[0], c[1], c[2]);
            o << "<rect x=\"" << px(left + k * cell) << "\" y=\"" << px(top + r * cell) << "\" width=\"" << px(cell)
              << "\" height=\"" << px(cell) << "\" fill=\"" << colour << "\"><title>" << num(v) << "</title></rect>\n";
        }
    for (size_t r = 0; r < m.row_labels.size(); ++r)
        o << "<text x=\"" << px(left - 6) << "\" y=\"" << px(top + (r + 0.5) * cell + 4) << "\" text-anchor=\"end\">"
          << esc(m.row_labels[r]) << "</text>\n";
    for (size_t k = 0; k < m.col_labels.size(); ++k) {  // column labels rotated to fit narrow cells
        const double x = left + (k + 0.5) * cell, y = top - 6;
        o << "<text x=\"" << px(x) << "\" y=\"" << px(y) << "\" transform=\"rotate(-60 " << px(x) << " " << px(y) << ")\">"
          << esc(m.col_labels[k]) << "</text>\n";
    }
    o << "<text x=\"" << px(left + gw / 2) << "\" y=\"" << px(top + gh + 22) << "\" text-anchor=\"middle\">" << esc(m.x_label) << "</text>\n"
      << "<text x=\"12\" y=\"" << px(top + gh / 2) << "\" text-anchor=\"middle\" transform=\"rotate(-90 12 " << px(top + gh / 2)
      << ")\">" << esc(m.y_label) << "</text>\n";
    // The colour scale: a vertical bar of 32 steps, max at the top.
    const double bx = left + gw + 20, bh = std::max(60.0, gh), step = bh / 32;
    for (int i = 0; i < 32; ++i) {
        heat_colour(1.0 - (i + 0.5) / 32.0, c);
        std::snprintf(colour, sizeof colour, "#%02x%02x%02x", c[0], c[1], c[2]);
        o << "<rect x=\"" << px(bx) << "\" y=\"" << px(top + i * step) << "\" width=\"14\" height=\"" << px(step + 0.5)
          << "\" fill=\"" << colour << "\"/>\n";
    }
    o << "<text x=\"" << px(bx + 18) << "\" y=\"" << px(top + 10) << "\">" << num(hi) << "</text>\n"
      << "<text x=\"" << px(bx + 18) << "\" y=\"" << px(top + bh) << "\">" << num(lo) << "</text>\n"
      << "</svg>\n";
    return o.str();
}

void write_text_file(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

bool png_supported() { return MINIREC_HAVE_STB_WRITE != 0; }

bool heatmap_png(const std::string& path, const Heatmap& m) {
    check_heatmap("heatmap_png", m);
#if MINIREC_HAVE_STB_WRITE
    double lo, hi;
    value_range(m, lo, hi);
    const int w = m.cols * m.cell, h = m.rows * m.cell;
    std::vector<unsigned char> img(static_cast<size_t>(w) * h * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const float v = m.values[static_cast<size_t>(y / m.cell) * m.cols + x / m.cell];
            heat_colour((v - lo) / (hi - lo), &img[(static_cast<size_t>(y) * w + x) * 3]);
        }
    // Encoded in memory, then written atomically like every other output.
    std::vector<unsigned char> png;
    auto append = [](void* out, void* data, int size) {
        auto* bytes = static_cast<unsigned char*>(data);
        static_cast<std::vector<unsigned char>*>(out)->insert(static_cast<std::vector<unsigned char>*>(out)->end(),
                                                             bytes, bytes + size);
    };
    if (!stbi_write_png_to_func(append, &png, w, h, 3, img.data(), w * 3))
        throw std::runtime_error("heatmap_png: cannot encode '" + path + "'");
    write_file_atomic(path, png.data(), png.size());
    return true;
#else
    (void)path;
    return false;
#endif
}

}  // namespace minirec

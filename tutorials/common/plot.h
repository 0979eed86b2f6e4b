// Pictures for the tutorials: SVG line charts (loss curves) and heatmaps (attention maps, gate
// weights), written by hand as text; PNG heatmaps through stb_image_write when Debian's
// libstb-dev is installed. Deliberately left out: scatter plots, subplots, fonts beyond the SVG
// viewer's default sans-serif.
#pragma once
#include <string>
#include <vector>

namespace minirec {

struct Series {
    std::string name;                 // shown in the legend
    std::vector<double> x, y;         // same length; a NaN/Inf y (or y <= 0 on a log axis) breaks the line
};

struct LineChart {
    std::string title, x_label, y_label;
    std::vector<Series> series;
    bool log_y = false;               // ticks at powers of ten
    int width = 640, height = 400;    // pixels
};

// The chart as an SVG document: axes with "nice" ticks (1, 2, 5 x 10^k), labels, a legend,
// one <path> per series, colours from a fixed palette. Throws when a series' x and y differ in length.
std::string line_chart_svg(const LineChart& chart);

struct Heatmap {
    std::string title, x_label, y_label;
    int rows = 0, cols = 0;
    std::vector<float> values;        // rows x cols, row-major
    std::vector<std::string> row_labels, col_labels;  // optional (empty, or one per row/column)
    int cell = 24;                    // cell size in pixels
};

// The heatmap as an SVG document: one rectangle per cell coloured on a dark-blue -> yellow scale
// (perceptually ordered, readable in grey), a colour bar with the min and max values.
std::string heatmap_svg(const Heatmap& map);

// Writes `text` to `path` atomically (a temporary file, then a rename: a killed run never leaves a
// short file under `path`); throws std::runtime_error when the file cannot be written.
void write_text_file(const std::string& path, const std::string& text);

// A PNG of the heatmap's cells (no labels), `cell` pixels per cell. Returns false, writing
// nothing, when this build has no stb_image_write (see png_supported()).
bool heatmap_png(const std::string& path, const Heatmap& map);
bool png_supported();

// The colour of t in [0, 1] on the heatmap scale, as r, g, b in 0..255.
void heat_colour(double t, unsigned char rgb[3]);

}  // namespace minirec

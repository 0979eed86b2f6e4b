// Pictures: the SVG we write is well-formed XML (checked by a tiny tag-balance parser below) and
// contains every series it was given; labels are escaped; PNG works when stb is available.
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "core/error.h"
#include "tutorials/common/plot.h"

using namespace minirec;

namespace {

// A tiny well-formedness check: tags nest and balance, attributes are quoted, and text holds no
// bare '<' or '&' that is not an entity. Returns "" when fine, otherwise what went wrong.
std::string xml_problem(const std::string& s) {
    std::vector<std::string> stack;
    size_t i = 0;
    int roots = 0;
    while (i < s.size()) {
        if (s[i] == '&') {
            const size_t semi = s.find(';', i);
            const std::string ent = semi == std::string::npos ? "" : s.substr(i, semi - i + 1);
            if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;")
                return "bad entity at " + std::to_string(i);
            i = semi + 1;
            continue;
        }
        if (s[i] != '<') { ++i; continue; }
        if (s.compare(i, 2, "<?") == 0) {  // the XML declaration
            const size_t e = s.find("?>", i);
            if (e == std::string::npos) return "unterminated <?";
            i = e + 2;
            continue;
        }
        const bool closing = i + 1 < s.size() && s[i + 1] == '/';
        size_t j = i + (closing ? 2 : 1);
        const size_t name_start = j;
        while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-' || s[j] == ':')) ++j;
        const std::string name = s.substr(name_start, j - name_start);
        if (name.empty()) return "empty tag name at " + std::to_string(i);
        // Attributes: name="value" pairs until > or />.
        bool self_closing = false;
        while (true) {
            while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
            if (j >= s.size()) return "unterminated tag <" + name;
            if (s[j] == '>') { ++j; break; }
            if (s.compare(j, 2, "/>") == 0) { self_closing = true; j += 2; break; }
            if (closing) return "attributes on a closing tag </" + name;
            const size_t eq = s.find('=', j);
            if (eq == std::string::npos || s[eq + 1] != '"') return "unquoted attribute in <" + name;
            const size_t end = s.find('"', eq + 2);
            if (end == std::string::npos) return "unterminated attribute in <" + name;
            const std::string value = s.substr(eq + 2, end - eq - 2);
            if (value.find('<') != std::string::npos) return "'<' inside an attribute of <" + name;
            j = end + 1;
        }
        if (closing) {
            if (stack.empty() || stack.back() != name) return "</" + name + "> does not close <" + (stack.empty() ? "" : stack.back()) + ">";
            stack.pop_back();
        } else if (!self_closing) {
            if (stack.empty()) ++roots;
            stack.push_back(name);
        } else if (stack.empty()) {
            ++roots;
        }
        i = j;
    }
    if (!stack.empty()) return "<" + stack.back() + "> is never closed";
    if (roots != 1) return std::to_string(roots) + " root elements";
    return "";
}

int count(const std::string& s, const std::string& what) {
    int n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("the XML checker itself catches broken documents") {
    CHECK(xml_problem("<a><b x=\"1\"/></a>").empty());
    CHECK_FALSE(xml_problem("<a><b></a>").empty());
    CHECK_FALSE(xml_problem("<a>x < y</a>").empty());
    CHECK_FALSE(xml_problem("<a>R&D</a>").empty());
    CHECK_FALSE(xml_problem("<a x=1></a>").empty());
    CHECK_FALSE(xml_problem("<a></a><b></b>").empty());
}

TEST_CASE("line chart SVG: well-formed, one path per series, names escaped") {
    LineChart c;
    c.title = "Loss <train & test>";
    c.x_label = "epoch";
    c.y_label = "logloss";
    c.series.push_back({"train", {1, 2, 3, 4}, {0.7, 0.5, 0.4, 0.35}});
    c.series.push_back({"test \"held-out\"", {1, 2, 3, 4}, {0.72, 0.6, NAN, 0.55}});
    const std::string svg = line_chart_svg(c);
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, "<path ") == 2);
    CHECK(svg.find("data-series=\"train\"") != std::string::npos);
    CHECK(svg.find("test &quot;held-out&quot;") != std::string::npos);
    CHECK(svg.find("Loss &lt;train &amp; test&gt;") != std::string::npos);
    // The NaN breaks the test line into two pieces: two "M" commands in that path.
    const size_t p = svg.find("data-series=\"test");
    const std::string d = svg.substr(p, svg.find("/>", p) - p);
    CHECK(count(d, " M") == 2);
    CHECK(count(svg, ">0.5<") == 1);  // a 1-2-5 tick label on the y axis

    c.log_y = true;
    c.series.push_back({"zero", {1, 2}, {0.0, 1e-3}});  // 0 cannot be drawn on a log axis
    const std::string log_svg = line_chart_svg(c);
    CHECK(xml_problem(log_svg) == "");
    CHECK(log_svg.find("(log scale)") != std::string::npos);
    CHECK(log_svg.find(">0.001<") != std::string::npos);  // decade ticks
    c.series.push_back({"bad", {1, 2}, {1.0}});
    CHECK_THROWS_AS(line_chart_svg(c), ArgumentError);
    LineChart empty;
    CHECK(xml_problem(line_chart_svg(empty)) == "");
}

TEST_CASE("heatmap SVG: one cell per value, labels, colour bar") {
    Heatmap m;
    m.title = "attention";
    m.rows = 2;
    m.cols = 3;
    m.values = {0.1f, 0.5f, 0.4f, 0.7f, 0.2f, 0.1f};
    m.row_labels = {"q0", "q1"};
    m.col_labels = {"k0", "k1", "k<2>"};
    const std::string svg = heatmap_svg(m);
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, "<title>") == 6);
    CHECK(svg.find(">q1<") != std::string::npos);
    CHECK(svg.find("k&lt;2&gt;") != std::string::npos);
    unsigned char lo[3], hi[3];
    heat_colour(0.0, lo);
    heat_colour(1.0, hi);
    CHECK(lo[0] + lo[1] + lo[2] < hi[0] + hi[1] + hi[2]);  // dark to light
    m.values.pop_back();
    CHECK_THROWS_AS(heatmap_svg(m), ArgumentError);
}

TEST_CASE("heatmap PNG when stb_image_write is available") {
    Heatmap m;
    m.rows = 2, m.cols = 2, m.cell = 4;
    m.values = {0, 1, 2, 3};
    const std::string path = "/tmp/minirec_test_heatmap_" + std::to_string(static_cast<long>(getpid())) + ".png";
    const bool wrote = heatmap_png(path, m);
    CHECK(wrote == png_supported());
    if (wrote) {
        std::ifstream f(path, std::ios::binary);
        char sig[8] = {0};
        f.read(sig, 8);
        CHECK(std::string(sig + 1, 3) == "PNG");
        std::remove(path.c_str());
    }
}

}  // TEST_SUITE

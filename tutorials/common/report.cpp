// Tables printed as Markdown and written as CSV, pictures, and the run's closing line.
#include "tutorials/common/report.h"

#include <stdexcept>

#include "tutorials/common/flags.h"

namespace minirec {

std::string num(const char* format, double x) {
    char buf[64];
    const int n = std::snprintf(buf, sizeof buf, format, x);
    if (n < int(sizeof buf)) return buf;
    std::string s(size_t(n) + 1, '\0');                // a rare long one: format it again in full
    std::snprintf(&s[0], s.size(), format, x);
    s.pop_back();
    return s;
}

Table::Table(std::string name_, std::vector<std::string> columns_) : name(std::move(name_)), columns(std::move(columns_)) {}

Table& Table::add(std::vector<std::string> cells) {
    if (cells.size() != columns.size())
        throw std::invalid_argument("table '" + name + "': a row of " + std::to_string(cells.size()) + " cells for " +
                                    std::to_string(columns.size()) + " columns");
    rows.push_back(std::move(cells));
    return *this;
}

static std::string md_row(const std::vector<std::string>& cells) {
    std::string s = "|";
    for (const std::string& c : cells) s += " " + c + " |";
    return s + "\n";
}

std::string Table::markdown() const {
    std::string s = md_row(columns) + "|";
    for (size_t i = 0; i < columns.size(); ++i) s += "---|";
    s += "\n";
    for (const auto& r : rows) s += md_row(r);
    return s;
}

static std::string csv_cell(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string Table::csv() const {
    std::string s;
    auto line = [&](const std::vector<std::string>& cells) {
        for (size_t i = 0; i < cells.size(); ++i) s += (i ? "," : "") + csv_cell(cells[i]);
        s += "\n";
    };
    line(columns);
    for (const auto& r : rows) line(r);
    return s;
}

Report::Report(const Flags& flags) : out_(flags.out), stream_(stdout) {}
Report::Report(std::string out_dir, std::FILE* stream) : out_(std::move(out_dir)), stream_(stream) {}

void Report::heading(const std::string& title) { std::fprintf(stream_, "# %s\n\n", title.c_str()); }
void Report::text(const std::string& paragraph) { std::fprintf(stream_, "%s\n\n", paragraph.c_str()); }

void Report::write(const std::string& name, const std::string& text) {
    if (out_.empty()) return;
    write_text_file(out_ + "/" + name, text);
    ++files_;
}

void Report::table(const Table& t, const std::string& title) {
    if (!title.empty()) std::fprintf(stream_, "## %s\n\n", title.c_str());
    std::fprintf(stream_, "%s\n", t.markdown().c_str());
    write(t.name + ".csv", t.csv());
}

void Report::chart(const LineChart& c, const std::string& stem) {
    if (!out_.empty()) write(stem + ".svg", line_chart_svg(c));
}

void Report::heatmap(const Heatmap& m, const std::string& stem) {
    if (!out_.empty()) write(stem + ".svg", heatmap_svg(m));
}

void Report::finish(double seconds) {
    std::fprintf(stream_, "(%.1f s)\n", seconds);
    std::fflush(stream_);
    if (!out_.empty()) std::fprintf(stderr, "wrote %d files to %s\n", files_, out_.c_str());
}

}  // namespace minirec

// A tutorial's report: Markdown on stdout, the same rows as CSV under --out, and pictures. A
// chapter builds Tables and hands them to its Report; it never formats a table by hand.
//     Report report(flags);                    // writes under flags.out when it is set
//     Table t("taus", {"ranking", "mean tau"});
//     t.add({"raw CTR", num("%.3f", tau)});
//     report.table(t, "Kendall's tau per ranking");   // "## ..." + Markdown, and taus.csv
// Files go through write_text_file (core/atomic_file.h), which writes a temporary file and renames
// it, so a killed run never leaves a short file that looks complete. Deliberately left out: HTML, LaTeX, alignment.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "tutorials/common/plot.h"

namespace minirec {

class Flags;

// One number formatted as printf would: num("%+.4f", 0.01234) == "+0.0123".
std::string num(const char* format, double x);

struct Table {
    std::string name;                               // the CSV file's stem under --out
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;

    Table(std::string name, std::vector<std::string> columns);
    // One row, one cell per column (throws std::invalid_argument naming the table otherwise).
    Table& add(std::vector<std::string> cells);
    std::string markdown() const;                   // "| a | b |\n|---|---|\n| 1 | 2 |\n"
    std::string csv() const;                        // header + rows, cells quoted when needed
};

class Report {
public:
    explicit Report(const Flags& flags);
    Report(std::string out_dir, std::FILE* stream);   // for tests: any directory, any stream
    void heading(const std::string& title);           // "# title"
    void text(const std::string& paragraph);          // a paragraph, then a blank line
    // "## title" (when given), the table in Markdown, a blank line; and <out>/<name>.csv.
    void table(const Table& t, const std::string& title = "");
    void chart(const LineChart& chart, const std::string& file_stem);   // <out>/<stem>.svg
    void heatmap(const Heatmap& map, const std::string& file_stem);     // <out>/<stem>.svg
    // "(12.3 s)" on stdout, then "wrote N files to DIR" on stderr when --out was given.
    void finish(double seconds);
    // Writes <out>/<name> when --out was given (no-op otherwise).
    void write(const std::string& name, const std::string& text);

private:
    std::string out_;
    std::FILE* stream_;
    int files_ = 0;
};

}  // namespace minirec

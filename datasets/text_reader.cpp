// Reading small text data files: lines, fields, strict numbers, and errors that name file:line.
// Deliberately left out: memory mapping and streaming (our files are a few megabytes).
#include "datasets/text_reader.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace minirec {
namespace datasets {

void data_fail(const Where& where, const std::string& what) {
    std::string msg = where.file;
    if (where.line > 0) msg += " line " + std::to_string(where.line);
    throw DataError(msg + ": " + what);
}

void LoadReport::skip(const Where& where, const std::string& why) {
    ++lines_skipped;
    // We keep only the first few reasons so that a badly broken file does not flood memory.
    if (problems.size() < 10) problems.push_back(where.file + " line " + std::to_string(where.line) + ": " + why);
}

std::string LoadReport::summary() const {
    std::string s = std::to_string(rows_kept) + " rows from " + std::to_string(lines_read) + " lines";
    if (lines_skipped > 0) s += ", " + std::to_string(lines_skipped) + " bad lines skipped";
    return s;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) data_fail({path, 0}, "cannot open file");
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();  // the last line may lack its newline
        size_t stop = end;
        if (stop > start && text[stop - 1] == '\r') --stop;  // CRLF line endings
        lines.push_back(text.substr(start, stop - start));
        start = end + 1;
    }
    return lines;
}

std::vector<std::string> split_fields(const std::string& line, char sep) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
        size_t end = line.find(sep, start);
        if (end == std::string::npos) {
            fields.push_back(line.substr(start));
            return fields;
        }
        fields.push_back(line.substr(start, end - start));
        start = end + 1;
    }
}

std::vector<std::string> split_csv(const std::string& line, char sep, const Where& where) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char ch = line[i];
        if (quoted) {
            if (ch != '"') {
                fields.back() += ch;
            } else if (i + 1 < line.size() && line[i + 1] == '"') {
                fields.back() += '"';  // "" inside quotes is one quote
                ++i;
            } else {
                quoted = false;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == sep) {
            fields.emplace_back();
        } else {
            fields.back() += ch;
        }
    }
    if (quoted) data_fail(where, "unterminated double quote");
    return fields;
}

static std::string shown(const std::string& field) {
    // Errors quote the bad field, shortened so that a binary blob cannot flood the terminal.
    return "'" + (field.size() > 40 ? field.substr(0, 40) + "..." : field) + "'";
}

int64_t parse_int(const std::string& field, const Where& where, const char* what) {
    if (field.empty()) data_fail(where, std::string(what) + ": empty field, expected an integer");
    const char* begin = field.c_str();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(begin, &end, 10);
    if (end == begin || *end != '\0' || field.size() != static_cast<size_t>(end - begin) ||
        field[0] == ' ' || field[0] == '\t')
        data_fail(where, std::string(what) + ": expected an integer, got " + shown(field));
    if (errno == ERANGE) data_fail(where, std::string(what) + ": integer out of range: " + shown(field));
    return static_cast<int64_t>(v);
}

double parse_double(const std::string& field, const Where& where, const char* what) {
    if (field.empty()) data_fail(where, std::string(what) + ": empty field, expected a number");
    const char* begin = field.c_str();
    char* end = nullptr;
    double v = std::strtod(begin, &end);
    if (end == begin || *end != '\0' || field.size() != static_cast<size_t>(end - begin) ||
        field[0] == ' ' || field[0] == '\t')
        data_fail(where, std::string(what) + ": expected a number, got " + shown(field));
    if (!std::isfinite(v)) data_fail(where, std::string(what) + ": not a finite number: " + shown(field));
    return v;
}

std::string latin1_to_utf8(const std::string& bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (unsigned char b : bytes) {
        if (b < 0x80) {
            out += static_cast<char>(b);
        } else {
            out += static_cast<char>(0xC0 | (b >> 6));
            out += static_cast<char>(0x80 | (b & 0x3F));
        }
    }
    return out;
}

std::string join_path(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

}  // namespace datasets
}  // namespace minirec

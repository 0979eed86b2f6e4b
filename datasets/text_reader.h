// Reading small text data files with errors that say where: "u.data line 17: expected 4
// tab-separated fields, got 3". Lines may end in LF or CRLF; the last line may lack its newline.
// Deliberately left out: streaming of files larger than memory, encodings other than Latin-1.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace minirec {
namespace datasets {

// A data file was missing, empty or malformed. The message names the file and the line.
struct DataError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Where we are in a file, for error messages.
struct Where {
    std::string file;
    long line = 0;  // 1-based; 0 means "the file as a whole"
};

// Throws DataError("file line N: what") (or "file: what" when line is 0).
[[noreturn]] void data_fail(const Where& where, const std::string& what);

// What a loader did besides reading good lines: we never drop or repair anything silently.
struct LoadReport {
    long lines_read = 0;                  // non-empty lines seen (header included)
    long rows_kept = 0;
    long lines_skipped = 0;               // bad lines skipped because the options allowed it
    std::vector<std::string> problems;    // the first few skip reasons, with file:line
    void skip(const Where& where, const std::string& why);
    std::string summary() const;          // one line, e.g. "u.data: 99998 rows, 2 bad lines skipped"
};

// The whole file as bytes. Throws DataError if it cannot be opened.
std::string read_file(const std::string& path);

// Splits text into lines, dropping the '\n' and a trailing '\r'. A missing final newline is fine;
// a final empty line (the usual trailing newline) does not produce an extra line.
std::vector<std::string> split_lines(const std::string& text);

// Splits one line at every `sep` (no quoting): "a\tb\t" gives {"a", "b", ""}.
std::vector<std::string> split_fields(const std::string& line, char sep);

// Splits one CSV line with RFC-4180 double quotes ("a, b" stays one field, "" is a quote).
// Throws DataError at `where` on an unterminated quote.
std::vector<std::string> split_csv(const std::string& line, char sep, const Where& where);

// Strict number parsing: the whole field must be the number (no trailing junk, no empty field).
// `what` names the field in the error: "u.data line 3: rating: expected an integer, got 'x'".
int64_t parse_int(const std::string& field, const Where& where, const char* what);
double parse_double(const std::string& field, const Where& where, const char* what);

// ISO-8859-1 (Latin-1) bytes to UTF-8: every byte >= 0x80 becomes two bytes.
std::string latin1_to_utf8(const std::string& bytes);

// Joins a directory and a file name with one '/'.
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace datasets
}  // namespace minirec

// Batching, progress display, non-finite checks, CSV logging and command-line flags.
// The progress bar is the only place that asks whether stderr is a terminal (POSIX isatty).
#include "nn/train.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>

namespace minirec {

// ---- Batching ---------------------------------------------------------------------------------
std::vector<std::vector<int>> make_batches(const std::vector<int>& indices, int batch_size, Rng& rng,
                                           bool shuffle, bool drop_last) {
    if (batch_size < 1) arg_fail("make_batches", "batch_size must be >= 1, got " + std::to_string(batch_size));
    std::vector<int> order = indices;
    if (shuffle) rng.shuffle(order);
    std::vector<std::vector<int>> batches;
    for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
        const size_t end = std::min(order.size(), start + static_cast<size_t>(batch_size));
        if (drop_last && end - start < static_cast<size_t>(batch_size)) break;
        batches.emplace_back(order.begin() + static_cast<long>(start), order.begin() + static_cast<long>(end));
    }
    return batches;
}

std::vector<std::vector<int>> make_batches(int n, int batch_size, Rng& rng, bool shuffle, bool drop_last) {
    if (n < 0) arg_fail("make_batches", "n must be >= 0, got " + std::to_string(n));
    std::vector<int> all(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
    return make_batches(all, batch_size, rng, shuffle, drop_last);
}

// ---- Progress ---------------------------------------------------------------------------------
Progress::Progress(int epochs, int steps_per_epoch, Mode mode, std::FILE* out, double interval_s)
    : epochs_(epochs), steps_per_epoch_(steps_per_epoch), mode_(mode), out_(out), interval_s_(interval_s) {
    if (mode_ == Mode::automatic) mode_ = (out_ && isatty(fileno(out_))) ? Mode::bar : Mode::lines;
    if (!out_) mode_ = Mode::quiet;
    epoch_start_ = last_print_ = std::chrono::steady_clock::now();
}

void Progress::start_epoch(int epoch) {
    epoch_ = epoch;
    step_ = 0;
    loss_sum_ = 0.0;
    examples_ = 0;
    epoch_start_ = last_print_ = std::chrono::steady_clock::now();
}

double Progress::epoch_loss() const { return step_ > 0 ? loss_sum_ / step_ : 0.0; }

void Progress::step(double loss, int examples) {
    ++step_;
    loss_sum_ += loss;
    examples_ += examples;
    if (mode_ == Mode::quiet) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_print_).count();
    // A terminal gets at most ~10 redraws a second; a log file one line per interval.
    if ((mode_ == Mode::bar && since >= 0.1) || (mode_ == Mode::lines && since >= interval_s_)) {
        last_print_ = now;
        print(false);
    }
}

void Progress::end_epoch() {
    if (mode_ != Mode::quiet) print(true);
}

void Progress::print(bool final_line) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
    const double speed = secs > 0.0 ? static_cast<double>(examples_) / secs : 0.0;
    char stats[160];
    std::snprintf(stats, sizeof stats, "epoch %d/%d  step %d/%d  loss %.4f  %.0f ex/s", epoch_ + 1, epochs_,
                  step_, steps_per_epoch_, epoch_loss(), speed);
    if (mode_ == Mode::bar) {
        const int width = 24;
        const int filled = steps_per_epoch_ > 0 ? std::min(width, width * step_ / steps_per_epoch_) : width;
        std::string bar(static_cast<size_t>(filled), '#');
        bar.resize(static_cast<size_t>(width), '.');
        // \r returns to the line start, \033[K clears what a longer previous line left behind.
        std::fprintf(out_, "\r[%s] %s\033[K%s", bar.c_str(), stats, final_line ? "\n" : "");
    } else {
        std::fprintf(out_, "%s%s\n", stats, final_line ? "  (epoch done)" : "");
    }
    std::fflush(out_);
}

// ---- Non-finite detection ---------------------------------------------------------------------
void check_finite(double value, long step, const std::string& what) {
    if (std::isfinite(value)) return;
    throw NonFiniteError("step " + std::to_string(step) + ": " + what + " is " +
                         (std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf")) +
                         " (try a smaller learning rate, gradient clipping, or check the inputs)");
}

static void check_tensor(const Tensor& t, const std::string& what, long step) {
    size_t first = 0, count = 0;
    for (size_t i = 0; i < t.size(); ++i)
        if (!std::isfinite(t[i]) && count++ == 0) first = i;
    if (count == 0) return;
    const float v = t[first];
    std::string msg = "step " + std::to_string(step) + ": " + what + " " + shape_str(t.shape()) + " has " +
                      (std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf")) + " at element " + std::to_string(first);
    if (count > 1) msg += " (and " + std::to_string(count - 1) + " more non-finite elements)";
    throw NonFiniteError(msg);
}

void check_finite(const NamedParams& params, long step) {
    for (const auto& [name, p] : params) {
        check_tensor(p.value(), "value of '" + name + "'", step);
        if (p.has_grad()) check_tensor(p.grad(), "gradient of '" + name + "'", step);
    }
}

// ---- CSV --------------------------------------------------------------------------------------
void ensure_dir(const std::string& dir) {
    if (dir.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("ensure_dir: cannot create '" + dir + "': " + ec.message());
}

static std::string csv_cell(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

// The parent directory is created before the AtomicFile member opens "<path>.partial" in it.
static std::string with_parent_dir(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) ensure_dir(parent.string());
    return path;
}

CsvLogger::CsvLogger(const std::string& path, std::vector<std::string> columns)
    : path_(path), columns_(std::move(columns)), f_(with_parent_dir(path), ".partial"),
      uncaught_at_start_(std::uncaught_exceptions()) {
    row(columns_);
}

CsvLogger::~CsvLogger() {
    // An exception on its way out means the run did not finish: the log stays "<path>.partial".
    if (std::uncaught_exceptions() > uncaught_at_start_) return;
    try {
        close();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "CsvLogger: %s\n", e.what());  // a destructor must not throw
    }
}

void CsvLogger::close() {
    try {
        f_.commit();
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string("CsvLogger: ") + e.what());
    }
}

void CsvLogger::row(const std::vector<std::string>& cells) {
    if (cells.size() != columns_.size())
        arg_fail("CsvLogger::row", path_ + ": " + std::to_string(cells.size()) + " cells for " +
                                   std::to_string(columns_.size()) + " columns");
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + csv_cell(cells[i]);
    f_.write(line + "\n");
}

void CsvLogger::row(const std::vector<double>& values) {
    std::vector<std::string> cells;
    char buf[32];
    for (double v : values) {
        std::snprintf(buf, sizeof buf, "%.9g", v);
        cells.emplace_back(buf);
    }
    row(cells);
}

// ---- Flags ------------------------------------------------------------------------------------
Flags::Flags(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {
    add("seed", &seed, "random seed: every random choice of the run derives from it");
    add("quick", &quick, "a seconds-long configuration (tests, CI)");
    add("epochs", &epochs, "passes over the training data");
    add("out", &out, "directory for CSV/SVG/PNG results (empty: write nothing)");
    add("data", &data, "path to a real dataset (empty: synthetic data)");
}

void Flags::add_flag(const std::string& name, Type type, void* target, const std::string& help) {
    if (name.empty() || name[0] == '-') arg_fail("Flags::add", "give the name without dashes: '" + name + "'");
    for (const Flag& f : flags_)
        if (f.name == name) arg_fail("Flags::add", "--" + name + " is registered twice");
    flags_.push_back({name, help, type, target});
}

void Flags::add(const std::string& n, int* t, const std::string& h) { add_flag(n, Type::i32, t, h); }
void Flags::add(const std::string& n, long* t, const std::string& h) { add_flag(n, Type::i64, t, h); }
void Flags::add(const std::string& n, uint64_t* t, const std::string& h) { add_flag(n, Type::u64, t, h); }
void Flags::add(const std::string& n, float* t, const std::string& h) { add_flag(n, Type::f32, t, h); }
void Flags::add(const std::string& n, double* t, const std::string& h) { add_flag(n, Type::f64, t, h); }
void Flags::add(const std::string& n, bool* t, const std::string& h) { add_flag(n, Type::boolean, t, h); }
void Flags::add(const std::string& n, std::string* t, const std::string& h) { add_flag(n, Type::text, t, h); }

std::string Flags::value_text(const Flag& f) {
    switch (f.type) {
        case Type::i32: return std::to_string(*static_cast<int*>(f.target));
        case Type::i64: return std::to_string(*static_cast<long*>(f.target));
        case Type::u64: return std::to_string(*static_cast<uint64_t*>(f.target));
        case Type::f32: { char b[32]; std::snprintf(b, sizeof b, "%g", *static_cast<float*>(f.target)); return b; }
        case Type::f64: { char b[32]; std::snprintf(b, sizeof b, "%g", *static_cast<double*>(f.target)); return b; }
        case Type::boolean: return *static_cast<bool*>(f.target) ? "true" : "false";
        case Type::text: return "\"" + *static_cast<std::string*>(f.target) + "\"";
    }
    return "";
}

// Parses the whole string strictly (no trailing junk) or throws naming the flag.
void Flags::set(const Flag& f, const std::string& v) {
    const std::string where = "--" + f.name + ": ";
    auto bad = [&](const char* expected) { throw FlagError(where + "expected " + expected + ", got '" + v + "'"); };
    char* end = nullptr;
    errno = 0;
    switch (f.type) {
        case Type::i32: case Type::i64: {
            const long long x = std::strtoll(v.c_str(), &end, 10);
            if (v.empty() || *end || errno == ERANGE) bad("an integer");
            if (f.type == Type::i32) {
                if (x < -2147483648LL || x > 2147483647LL) bad("an integer that fits in 32 bits");
                *static_cast<int*>(f.target) = static_cast<int>(x);
            } else {
                *static_cast<long*>(f.target) = static_cast<long>(x);
            }
            return;
        }
        case Type::u64: {
            const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
            if (v.empty() || *end || errno == ERANGE || v[0] == '-') bad("a non-negative integer");
            *static_cast<uint64_t*>(f.target) = static_cast<uint64_t>(x);
            return;
        }
        case Type::f32: case Type::f64: {
            const double x = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || errno == ERANGE || !std::isfinite(x)) bad("a finite number");
            if (f.type == Type::f32) *static_cast<float*>(f.target) = static_cast<float>(x);
            else *static_cast<double*>(f.target) = x;
            return;
        }
        case Type::boolean:
            if (v == "true" || v == "1" || v == "yes") *static_cast<bool*>(f.target) = true;
            else if (v == "false" || v == "0" || v == "no") *static_cast<bool*>(f.target) = false;
            else bad("true or false");
            return;
        case Type::text: *static_cast<std::string*>(f.target) = v; return;
    }
}

bool Flags::parse(const std::vector<std::string>& args) {
    // --help wins wherever it is, before any value changes (so help shows the defaults).
    for (const std::string& a : args)
        if (a == "--help" || a == "-h") return false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() < 3 || a.compare(0, 2, "--") != 0)
            throw FlagError("unexpected argument '" + a + "' (flags look like --name value; see --help)");
        const size_t eq = a.find('=');
        const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        const Flag* flag = nullptr;
        for (const Flag& f : flags_)
            if (f.name == name) flag = &f;
        if (!flag) {
            std::vector<std::string> names;
            for (const Flag& f : flags_) names.push_back("--" + f.name);
            std::sort(names.begin(), names.end());
            std::string list;
            for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
            throw FlagError("unknown flag --" + name + "; valid flags: " + list + ", --help");
        }
        if (eq != std::string::npos) {
            set(*flag, a.substr(eq + 1));
        } else if (flag->type == Type::boolean) {
            *static_cast<bool*>(flag->target) = true;   // --quick alone means true
        } else {
            if (i + 1 >= args.size()) throw FlagError("--" + name + ": missing value");
            set(*flag, args[++i]);
        }
    }
    return true;
}

void Flags::parse_or_exit(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!parse(args)) {
            std::cout << help();
            std::exit(0);
        }
    } catch (const FlagError& e) {
        std::cerr << program_ << ": " << e.what() << "\n";
        std::exit(2);
    }
}

void Flags::refuse_data(const std::string& why) const {
    if (data.empty()) return;
    std::cerr << program_ << ": --data is not supported (" << why << ")\n";
    std::exit(2);
}

std::string Flags::help() const {
    std::string s = "usage: " + program_ + " [flags]\n" + description_ + "\n\nflags:\n";
    for (const Flag& f : flags_) {
        std::string left = "  --" + f.name + (f.type == Type::boolean ? "" : " VALUE");
        left.resize(std::max<size_t>(left.size() + 2, 22), ' ');
        s += left + f.help + " (default " + value_text(f) + ")\n";
    }
    return s + "  --help              print this help and exit\n";
}

// ---- Reports ----------------------------------------------------------------------------------
std::string num(const char* format, double x) {
    char buf[64];
    const int n = std::snprintf(buf, sizeof buf, format, x);
    if (n < int(sizeof buf)) return buf;
    std::string s(size_t(n) + 1, '\0');                // a rare long one: format it again in full
    std::snprintf(&s[0], s.size(), format, x);
    s.pop_back();
    return s;
}

void print_claim(const std::string& claim, bool holds, const std::string& numbers, std::FILE* out) {
    std::fprintf(out, "| %s | %s | %s |\n", claim.c_str(), holds ? "yes" : "**no**", numbers.c_str());
}

}  // namespace minirec

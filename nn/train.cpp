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

}  // namespace minirec

// Helpers that serve a training loop without hiding it: seeded batching, a progress display,
// NaN/Inf checks, a CSV logger, and statistics over replicates. The tutorials' flags and report
// kit live in tutorials/common/.
// Each tutorial still writes its own loop (batch, forward, loss, backward, step, log).
// Deliberately left out: a fit() function, callbacks, data loaders with threads.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/rng.h"
#include "core/atomic_file.h"
#include "nn/params.h"

namespace minirec {

// ---- Batching ---------------------------------------------------------------------------------
// One epoch of mini-batches over `indices` (e.g. the training rows): shuffled with rng when
// shuffle is true (each call draws a new order, so pass the same Rng every epoch), then cut into
// chunks of batch_size; the last chunk is smaller unless drop_last. Every index appears once.
std::vector<std::vector<int>> make_batches(const std::vector<int>& indices, int batch_size, Rng& rng,
                                           bool shuffle = true, bool drop_last = false);
// The same over 0 .. n-1.
std::vector<std::vector<int>> make_batches(int n, int batch_size, Rng& rng, bool shuffle = true,
                                           bool drop_last = false);

// ---- Progress ---------------------------------------------------------------------------------
// "epoch 2/10  step 140/313  loss 0.4312  5120 ex/s": a bar redrawn in place when the stream is a
// terminal, otherwise one plain line every `interval_s` seconds and at the end of each epoch (so
// logs stay readable). The loss shown is the mean over the epoch so far.
class Progress {
public:
    enum class Mode { automatic, bar, lines, quiet };
    Progress(int epochs, int steps_per_epoch, Mode mode = Mode::automatic, std::FILE* out = stderr,
             double interval_s = 5.0);
    void start_epoch(int epoch);                      // 0-based
    void step(double loss, int examples);             // after each optimizer step
    void end_epoch();                                 // prints the epoch's summary line
    double epoch_loss() const;                        // mean loss of the current epoch so far
    Mode mode() const { return mode_; }
private:
    void print(bool final_line);
    int epochs_, steps_per_epoch_;
    Mode mode_;
    std::FILE* out_;
    double interval_s_;
    int epoch_ = 0, step_ = 0;
    double loss_sum_ = 0.0;
    long examples_ = 0;
    std::chrono::steady_clock::time_point epoch_start_, last_print_;
};

// ---- Non-finite detection ---------------------------------------------------------------------
// Thrown when training produced a NaN or an Inf: the message says at which step and in what.
struct NonFiniteError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Throws NonFiniteError("step 17: loss is nan") unless value is finite.
void check_finite(double value, long step, const std::string& what = "loss");
// Checks every parameter's value and gradient: "step 17: gradient of 'mlp.0.weight' [16,8] has
// inf at element 5 (and 3 more non-finite elements)".
void check_finite(const NamedParams& params, long step);

// ---- CSV logging ------------------------------------------------------------------------------
// Writes a header once and one row per call into "<path>.partial", each row handed to the OS at
// once (a crashed run keeps its log there); close(), or the destructor after a clean finish,
// renames it to `path`. So a file under `path` is always complete: a run killed, or left by an
// exception, leaves only the .partial file. Creates missing parent directories. Numbers use %.9g.
class CsvLogger {
public:
    CsvLogger(const std::string& path, std::vector<std::string> columns);
    ~CsvLogger();                                      // close() unless an exception is unwinding
    void row(const std::vector<double>& values);       // one value per column
    void row(const std::vector<std::string>& cells);   // text cells (quoted when needed)
    void close();                                      // fsync + rename to path(); throws on failure
    const std::string& path() const { return path_; }
private:
    std::string path_;
    std::vector<std::string> columns_;
    AtomicFile f_;
    int uncaught_at_start_;                            // std::uncaught_exceptions() when constructed
};

// Creates a directory and its parents (no-op when it exists); throws on failure.
void ensure_dir(const std::string& dir);

// ---- Replicates -------------------------------------------------------------------------------
// A chapter's study runs its experiment on several independent worlds (replicates) and reports
// the mean and the worst case of each number: mean_over(reps, [](const Replicate& r) { return r.auc; }).
// The seed of replicate r; every world is independent and can be rerun alone.
inline uint64_t replicate_seed(uint64_t seed, int r) { return splitmix64(seed * 1000003ull + uint64_t(r)); }
// The mean of f(x) over items, summed term by term as f(x) / n (0 when there are no items).
template <class T, class F> double mean_over(const std::vector<T>& items, F f) {
    double s = 0.0;
    for (const T& x : items) s += f(x) / double(items.size());
    return s;
}
// The smallest f(x) (1e300 when there are no items).
template <class T, class F> double min_over(const std::vector<T>& items, F f) {
    double m = 1e300;
    for (const T& x : items) m = std::min(m, double(f(x)));
    return m;
}
// The sample standard deviation of f(x) (divided by n - 1; 0 for fewer than two items).
template <class T, class F> double stdev_over(const std::vector<T>& items, F f) {
    const double m = mean_over(items, f);
    double s = 0.0;
    for (const T& x : items) s += (f(x) - m) * (f(x) - m);
    return items.size() > 1 ? std::sqrt(s / double(items.size() - 1)) : 0.0;
}

}  // namespace minirec

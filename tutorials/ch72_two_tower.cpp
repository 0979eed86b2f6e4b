// Chapter 72: sampling-bias-corrected two-tower retrieval and streaming frequency estimation
// (Yi et al., RecSys 2019), as a lab. Part 1 runs the paper's drifting-stream simulation; part 2
// trains a two-tower model plain, corrected by the streaming estimates and corrected by the true
// probabilities. Prints Markdown tables; writes CSV and SVG under --out. The experiments are in
// ch72_two_tower.h.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch72_two_tower.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch72;

// ---- Part 1 tables --------------------------------------------------------------------------
static void print_frequency(const FrequencyStudyOptions& o, const FrequencyReport& rep) {
    std::printf("## 1. Streaming frequency estimation (M = %d items, B = %d, switch at step %d of %d)\n\n",
                o.items, o.batch, o.steps_per_phase, 2 * o.steps_per_phase);
    std::printf("Error = mean over the batch's items of |p_hat - B q|, averaged over steps. Steady state: "
                "the last %.0f%% of the first phase; after the switch: its first %d steps.\n\n",
                100 * o.steady_share, o.recovery_window);
    std::printf("### The step size alpha (collision-free array)\n\n");
    std::printf("| estimator | steady-state error | error after the switch | mean error, whole run |\n|---|---|---|---|\n");
    const EstimatorTrace* best = &rep.alphas[0];
    for (const EstimatorTrace& t : rep.alphas) {
        std::printf("| %s | %.5f | %.5f | %.5f |\n", t.name.c_str(), t.steady, t.after_switch, t.overall);
        if (t.options.first_gap_start && t.overall < best->overall) best = &t;
    }
    std::printf("\nThe alpha that balances both (lowest mean error over the whole run): %s.\n\n", best->name.c_str());

    std::printf("### Hash functions (H = %d slots each, alpha = %g; collision-free: one slot per item)\n\n",
                o.buckets, o.hash_alpha);
    std::printf("| estimator | steady-state error | relative to 1 hash |\n|---|---|---|\n");
    for (const EstimatorTrace& t : rep.hashes)
        std::printf("| %s | %.5f | %.2f |\n", t.name.c_str(), t.steady, t.steady / rep.hashes[0].steady);

    std::printf("\n### Items that stop appearing (collision-free, alpha = %g)\n\n", o.hash_alpha);
    std::printf("Catalogue error = mean over all M items (seen in the batch or not) of |p_hat - B q|.\n\n");
    std::printf("| query | catalogue error, steady state | catalogue error after the switch | batch error after the switch |\n"
                "|---|---|---|---|\n");
    for (const EstimatorTrace& t : rep.stale) {
        const long S = o.steps_per_phase;
        double steady = 0;
        int n = 0;
        for (size_t i = 0; i < rep.catalogue_step.size(); ++i)
            if (rep.catalogue_step[i] > long(S * (1 - o.steady_share)) && rep.catalogue_step[i] <= S)
                steady += t.catalogue_error[i], ++n;
        std::printf("| %s | %.6f | %.6f | %.5f |\n", t.name.c_str(), n ? steady / n : NAN, t.catalogue_after_switch,
                    t.after_switch);
    }
    std::printf("\n");
}

// ---- Part 2 tables --------------------------------------------------------------------------
static void print_retrieval(const RetrievalOptions& o, const RetrievalData& d, const RetrievalReport& rep,
                            const std::string& source) {
    std::printf("## 2. Two-tower retrieval with in-batch softmax (%s)\n\n", source.c_str());
    std::printf("%d items, %zu training examples, %zu test queries; batch %d, %d epochs, Adam %g, tau = %g; "
                "streaming estimator: H = %d, %d hash%s, alpha = %g. Head = the %d most popular items "
                "(%.0f%% of the interactions).\n\n",
                d.num_items, d.train.size(), d.test.size(), o.batch, o.epochs, o.lr, o.tau,
                o.estimator.buckets > 0 ? o.estimator.buckets : d.num_items / 2, o.estimator.hashes,
                o.estimator.hashes == 1 ? "" : "es", o.estimator.alpha, rep.head_size, 100 * o.head_mass);
    std::printf("| training | Recall@%d | Recall@%d | head Recall@%d | tail Recall@%d | head share of top %d |\n"
                "|---|---|---|---|---|---|\n", o.ks[0], o.ks[1], o.ks[0], o.ks[0], o.ks[0]);
    for (const RetrievalResult& r : rep.results)
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.3f |\n", r.name.c_str(), r.recall[0], r.recall[1],
                    r.head_recall, r.tail_recall, r.head_share);
    if (!rep.taus.empty()) {
        std::printf("\n### Temperature sweep (plain vs corrected by the streaming estimates)\n\n");
        std::printf("| tau | epochs | plain R@%d | corrected R@%d | plain R@%d | corrected R@%d | plain tail R@%d | "
                    "corrected tail R@%d |\n|---|---|---|---|---|---|---|---|\n",
                    o.ks[0], o.ks[0], o.ks[1], o.ks[1], o.ks[0], o.ks[0]);
        for (size_t i = 0; i < rep.taus.size(); ++i) {
            const RetrievalResult &p = rep.sweep[i][0], &c = rep.sweep[i][1];
            std::printf("| %g | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", rep.taus[i], rep.sweep_epochs[i],
                        p.recall[0], c.recall[0], p.recall[1], c.recall[1], p.tail_recall, c.tail_recall);
        }
    }
    std::printf("\n");
}

// ---- The claims, checked on this run ------------------------------------------------
static const char* yes(bool b) { return b ? "yes" : "**no**"; }

static void print_claims(const FrequencyReport& f, const RetrievalReport& r) {
    std::printf("## The claims in this run\n\n| claim | holds | numbers |\n|---|---|---|\n");
    const auto& h = f.hashes;                                  // 1, 2, 4 hashes, then collision-free
    bool fewer = true;
    for (size_t i = 0; i + 2 < h.size(); ++i) fewer = fewer && h[i + 1].steady < h[i].steady;
    std::printf("| more hash functions, lower error | %s | %s |\n", yes(fewer),
                (num("%.4f", h[0].steady) + " -> " + num("%.4f", h[1].steady) + " -> " + num("%.4f", h[2].steady)).c_str());
    size_t lo = 0, hi = 0;                                     // smallest and largest alpha (first-gap start)
    for (size_t i = 0; i < f.alphas.size(); ++i) {
        if (!f.alphas[i].options.first_gap_start) continue;
        if (f.alphas[i].options.alpha < f.alphas[lo].options.alpha) lo = i;
        if (f.alphas[i].options.alpha > f.alphas[hi].options.alpha) hi = i;
    }
    bool lowest = true, fastest = true;
    for (const EstimatorTrace& t : f.alphas) {
        if (!t.options.first_gap_start) continue;
        lowest = lowest && f.alphas[lo].steady <= t.steady;
        fastest = fastest && f.alphas[hi].after_switch <= t.after_switch;
    }
    std::printf("| smallest alpha, lowest steady-state error | %s | %s: %.5f |\n", yes(lowest), f.alphas[lo].name.c_str(),
                f.alphas[lo].steady);
    std::printf("| largest alpha, lowest error after the switch | %s | %s: %.5f |\n", yes(fastest),
                f.alphas[hi].name.c_str(), f.alphas[hi].after_switch);
    const RetrievalResult &p = r.results[0], &c = r.results[1], &o = r.results[2];
    std::printf("| corrected beats plain, Recall@10 and @50 | %s | %.4f vs %.4f; %.4f vs %.4f |\n",
                yes(c.recall[0] > p.recall[0] && c.recall[1] > p.recall[1]), c.recall[0], p.recall[0], c.recall[1], p.recall[1]);
    std::printf("| corrected within 0.05 of the oracle | %s | %.4f vs %.4f; %.4f vs %.4f |\n",
                yes(o.recall[0] - c.recall[0] < 0.05 && o.recall[1] - c.recall[1] < 0.05), c.recall[0], o.recall[0],
                c.recall[1], o.recall[1]);
    std::printf("| (report) the correction restores head items | %s | head share of top 10: %.3f plain, %.3f corrected, %.3f oracle |\n",
                yes(c.head_share > p.head_share), p.head_share, c.head_share, o.head_share);
    std::string tail = num("%+.4f at tau ", c.tail_recall - p.tail_recall) + num("%g", r.tau);
    if (!r.taus.empty()) tail.clear();
    for (size_t i = 0; i < r.taus.size(); ++i)                 // the sweep at the full training length
        if (r.sweep_epochs[i] == r.epochs)
            tail += (tail.empty() ? "" : "; ") + num("%+.4f at tau ", r.sweep[i][1].tail_recall - r.sweep[i][0].tail_recall) +
                    num("%g", r.taus[i]);
    std::printf("| (report) tail Recall@10, corrected - plain | | %s |\n", tail.c_str());
    std::printf("\n");
}

// ---- CSV and pictures -----------------------------------------------------------------------
static LineChart error_chart(const std::string& title, const std::vector<EstimatorTrace>& traces,
                             const std::vector<long>& x, bool catalogue) {
    LineChart c{title, "step", catalogue ? "mean |p_hat - p| over all items" : "mean |p_hat - p| over the batch", {}, true};
    for (const EstimatorTrace& t : traces) {
        Series s{t.name, {}, {}};
        const std::vector<double>& y = catalogue ? t.catalogue_error : t.error;
        for (size_t i = 0; i < x.size(); ++i) s.x.push_back(double(x[i])), s.y.push_back(y[i]);
        c.series.push_back(s);
    }
    return c;
}

static void write_outputs(const FrequencyReport& f, const RetrievalReport& r, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger errors(dir + "/frequency_error.csv", {"study", "estimator", "step", "batch_error"});
    CsvLogger cat(dir + "/frequency_catalogue_error.csv", {"study", "estimator", "step", "catalogue_error"});
    const std::vector<std::pair<std::string, const std::vector<EstimatorTrace>*>> groups = {
        {"alpha", &f.alphas}, {"hashes", &f.hashes}, {"stale", &f.stale}};
    for (const auto& g : groups)
        for (const EstimatorTrace& t : *g.second) {
            for (size_t i = 0; i < f.window_end.size(); ++i)
                errors.row({g.first, t.name, std::to_string(f.window_end[i]), num("%.6g", t.error[i])});
            for (size_t i = 0; i < f.catalogue_step.size(); ++i)
                cat.row({g.first, t.name, std::to_string(f.catalogue_step[i]), num("%.6g", t.catalogue_error[i])});
        }
    write_text_file(dir + "/frequency_alpha.svg",
                    line_chart_svg(error_chart("Estimation error vs step, by alpha (popularity flips halfway)",
                                               f.alphas, f.window_end, false)));
    write_text_file(dir + "/frequency_hashes.svg",
                    line_chart_svg(error_chart("Estimation error vs step: hash functions vs no collisions",
                                               f.hashes, f.window_end, false)));
    write_text_file(dir + "/frequency_stale.svg",
                    line_chart_svg(error_chart("Error over the whole catalogue: 1/B vs 1/max(B, t - A)", f.stale,
                                               f.catalogue_step, true)));
    CsvLogger ret(dir + "/retrieval.csv", {"training", "tau", "epochs", "recall_at_10", "recall_at_50", "head_recall",
                                           "tail_recall", "head_share", "final_loss", "seconds"});
    auto row = [&](const RetrievalResult& x, double tau, int epochs) {
        ret.row({x.name, num("%g", tau), std::to_string(epochs), num("%.6g", x.recall[0]), num("%.6g", x.recall[1]),
                 num("%.6g", x.head_recall), num("%.6g", x.tail_recall), num("%.6g", x.head_share),
                 num("%.6g", x.final_loss), num("%.3g", x.seconds)});
    };
    for (const RetrievalResult& x : r.results) row(x, r.tau, r.epochs);
    for (size_t i = 0; i < r.taus.size(); ++i)
        for (const RetrievalResult& x : r.sweep[i]) row(x, r.taus[i], r.sweep_epochs[i]);
}

static int run_main(int argc, char** argv) {
    Flags flags("ch72_two_tower", "Streaming frequency estimation and the sampling-bias-corrected two-tower "
                                  "model (Yi et al., RecSys 2019): a drifting-stream simulation, then in-batch "
                                  "softmax retrieval plain / corrected / oracle (synthetic, or --data ml-100k).");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    std::string data_path;
    flags.add("data", &data_path, "path to the MovieLens-100k folder (u.data, u.item) instead of the synthetic catalogue");
    RetrievalData real;   // loaded while the flags are checked, so a bad path fails before any training
    flags.check([&] {
        if (data_path.empty()) return;
        try {
            real = datasets::movielens_retrieval(data_path);
        } catch (const std::exception& e) {
            throw FlagError("--data " + data_path + ": " + e.what());
        }
    });
    FrequencyStudyOptions fo;
    RetrievalOptions ro;
    epochs = ro.epochs;
    std::string taus = "0.01,0.02,0.1,0.2";  // and --tau
    bool no_sweep = false;
    flags.add("alpha", &ro.estimator.alpha, "alpha of the estimator used in training");
    flags.add("hashes", &ro.estimator.hashes, "hash functions of the estimator used in training");
    flags.add("buckets", &ro.estimator.buckets, "H, slots per hash function in training (0 = items / 2)");
    flags.add("tau", &ro.tau, "temperature of the in-batch softmax");
    flags.add("taus", &taus, "the temperature sweep, comma-separated (besides --tau)");
    flags.add("no-sweep", &no_sweep, "skip the temperature sweep");
    flags.add("items", &ro.items, "synthetic catalogue size N");
    flags.add("noise", &ro.noise, "synthetic query noise (std per coordinate)");
    flags.add("steps-per-phase", &fo.steps_per_phase, "steps before (and after) the popularity switch");
    flags.parse_or_exit(argc, argv);
    fo.seed = ro.seed = flags.seed;
    ro.epochs = epochs;
    if (flags.quick) {
        fo.steps_per_phase = 10000, fo.alphas = {0.03, 0.1, 0.3}, fo.catalogue_every = 1000;
        ro.items = 1000, ro.train_rows = 20000, ro.test_rows = 2000, ro.epochs = 4;
        taus = "0.01,0.2";
    }
    std::vector<double> sweep;
    if (!no_sweep)
        for (size_t i = 0; i < taus.size();) {
            const size_t j = std::min(taus.find(',', i), taus.size());
            sweep.push_back(std::stod(taus.substr(i, j - i)));
            i = j + 1;
        }

    std::printf("# Chapter 72: sampling-bias-corrected two-tower retrieval\n\nseed %llu%s\n\n",
                static_cast<unsigned long long>(flags.seed), flags.quick ? " (--quick)" : "");
    std::fprintf(stderr, "part 1: frequency estimation, %d steps\n", 2 * fo.steps_per_phase);
    const FrequencyReport freq = frequency_study(fo);
    print_frequency(fo, freq);
    std::fflush(stdout);

    std::fprintf(stderr, "part 2: two-tower retrieval\n");
    const RetrievalData data = data_path.empty() ? synthetic_retrieval(ro) : std::move(real);
    const std::string source = data_path.empty()
        ? "synthetic power-law catalogue, exponent " + num("%g", ro.exponent) + ", query noise " + num("%g", ro.noise)
        : "MovieLens-100k, time-ordered split, from " + data_path;
    const RetrievalReport rep = retrieval_study(data, ro, sweep, {std::max(1, ro.epochs / 4), ro.epochs});
    print_retrieval(ro, data, rep, source);
    print_claims(freq, rep);
    std::fprintf(stderr, "frequency study %.1f s; retrieval %.1f s\n", freq.seconds, rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(freq, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch72_two_tower", [&] { return run_main(argc, argv); });
}

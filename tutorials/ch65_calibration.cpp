// Chapter 65: calibrating CTRs after negative down-sampling, as a lab. Prints the chapter's worked
// example (three ads, negatives kept at 1/3), then trains logistic regression and a small DNN on click
// logs whose negatives were kept at w = 1, 1/2, 1/3, 1/4, 1/10 and compares ranking, calibration and
// the ads' revenue order on unsampled test data, before and after q = p / (p + (1 - p) / w).
// The experiment itself is in ch65_calibration.h; here: flags, Markdown tables, CSV and SVG.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch65_calibration.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch65;

static std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}
// 1/w as a label: "1", "1/2", ..., "1/10".
static std::string rate_name(double w) { return w == 1.0 ? "1" : "1/" + fmt("%.3g", 1.0 / w); }

static void print_example(const WorkedExample& ex) {
    std::printf("## The worked example: negatives kept at w = %s\n\n", rate_name(ex.w).c_str());
    std::printf("Before sampling positives : negatives = %.2f : %.2f; after, %.2f : %.2f.\n\n", ex.positives,
                ex.negatives, ex.positives, ex.negatives * ex.w);
    std::printf("| ad | share | CTR | CPC | revenue / imp. | CTR after sampling | revenue / imp. | corrected CTR | revenue / imp. |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < ex.rows.size(); ++k) {
        const ExampleRow& r = ex.rows[k];
        std::printf("| %s | %.0f%% | %.2f | %.0f | %.2f | %.4f | %.2f | %.2f | %.2f |\n", kAdNames[k], 100 * r.share, r.ctr,
                    r.cpc, r.revenue, r.sampled, r.revenue_sampled, r.corrected, r.revenue_corrected);
    }
    std::printf("\nRevenue order: before sampling %s; after sampling %s; after correction %s.\n\n", ex.order.c_str(),
                ex.order_sampled.c_str(), ex.order_corrected.c_str());
}

static void print_data(const Options& o, const Results& rep) {
    std::printf("## The simulation\n\n%d training impressions (CTR %.4f) before sampling, %d unsampled test impressions "
                "(CTR %.4f; ads A, B, C: %.4f, %.4f, %.4f). %d trainings per (model, w), %d epochs, batch %d. The true "
                "CTRs score AUC %.4f, logloss %.4f, ECE %.4f on the test set: the best any model can do.\n\n",
                o.n_train, rep.train_ctr, o.n_test, rep.test_ctr, rep.test_ad_ctr[0], rep.test_ad_ctr[1],
                rep.test_ad_ctr[2], o.repeats, o.epochs, o.batch, rep.oracle_auc, rep.oracle_logloss, rep.oracle_ece);
}

// Ranking and calibration per w: the correction leaves AUC alone and repairs logloss, ECE and the ratio.
static void print_metrics(const Results& rep, size_t m) {
    const std::vector<Cell>& row = rep.cells[m];
    std::printf("## %s: ranking and calibration on unsampled test data (mean over trainings; raw -> corrected)\n\n",
                rep.models[m].c_str());
    std::printf("| w | train rows | AUC | AUC - AUC(w=1) | logloss | ECE | mean pCTR / CTR |\n|---|---|---|---|---|---|---|\n");
    for (const Cell& c : row)
        std::printf("| %s | %.0f | %.4f ± %.4f | %+.4f | %.4f -> %.4f | %.4f -> %.4f | %.3f -> %.3f |\n",
                    rate_name(c.w).c_str(), c.train_rows, mean_of(c.auc), std_of(c.auc), mean_of(c.auc) - mean_of(row[0].auc),
                    mean_of(c.logloss_raw), mean_of(c.logloss_cal), mean_of(c.ece_raw), mean_of(c.ece_cal),
                    mean_of(c.ratio_raw), mean_of(c.ratio_cal));
    std::printf("\n");
}

// The ads' expected revenue per impression, mean pCTR x CPC, and how often each order appeared.
static void print_revenue(const Options& o, const Results& rep, size_t m) {
    std::printf("## %s: expected revenue per impression by ad (pCTR x CPC), raw -> corrected\n\n", rep.models[m].c_str());
    std::printf("| w | A | B | C | raw order | corrected order | perfect sampled model |\n|---|---|---|---|---|---|---|\n");
    for (const Cell& c : rep.cells[m]) {
        std::printf("| %s |", rate_name(c.w).c_str());
        for (size_t k = 0; k < o.ads.cpc.size(); ++k) {
            double raw = 0.0, cal = 0.0;
            for (size_t r = 0; r < c.ad_ctr_raw.size(); ++r)
                raw += c.ad_ctr_raw[r][k] * o.ads.cpc[k] / double(c.ad_ctr_raw.size()),
                cal += c.ad_ctr_cal[r][k] * o.ads.cpc[k] / double(c.ad_ctr_raw.size());
            std::printf(" %.2f -> %.2f |", raw, cal);
        }
        for (const auto* orders : {&c.order_raw, &c.order_cal}) {  // "B > A > C (3/3)", or each order with its count
            std::string cell;
            std::vector<std::string> seen;
            for (const std::string& s : *orders) {
                if (std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
                seen.push_back(s);
                const long n = std::count(orders->begin(), orders->end(), s);
                cell += (cell.empty() ? "" : ", ") + s + " (" + std::to_string(n) + "/" + std::to_string(orders->size()) + ")";
            }
            std::printf(" %s |", cell.c_str());
        }
        std::printf(" %s (%.2f, %.2f, %.2f) |\n", c.oracle_order.c_str(), c.oracle_ad_ctr[0] * o.ads.cpc[0],
                    c.oracle_ad_ctr[1] * o.ads.cpc[1], c.oracle_ad_ctr[2] * o.ads.cpc[2]);
    }
    std::printf("\nThe unsampled truth: %s (1.80, 1.60, 0.60). Perfect sampled model: the test impressions' true CTRs "
                "passed through sampled_ctr(p, w), averaged per ad, times CPC.\n\n", rep.true_order.c_str());
}

static void write_outputs(const Results& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger ex(dir + "/worked_example.csv", {"ad", "share", "ctr", "cpc", "revenue", "sampled_ctr",
                                               "sampled_revenue", "corrected_ctr", "corrected_revenue"});
    for (size_t k = 0; k < rep.example.rows.size(); ++k) {
        const ExampleRow& r = rep.example.rows[k];
        ex.row({kAdNames[k], fmt("%g", r.share), fmt("%g", r.ctr), fmt("%g", r.cpc), fmt("%.6g", r.revenue),
                fmt("%.6g", r.sampled), fmt("%.6g", r.revenue_sampled), fmt("%.6g", r.corrected), fmt("%.6g", r.revenue_corrected)});
    }
    CsvLogger res(dir + "/results.csv", {"model", "w", "repeat", "auc", "logloss_raw", "logloss_corrected", "ece_raw",
                                         "ece_corrected", "ratio_raw", "ratio_corrected", "order_raw", "order_corrected"});
    CsvLogger rel(dir + "/reliability.csv", {"model", "w", "pctr", "bin_lo", "bin_hi", "count", "mean_pred", "mean_label"});
    LineChart ece{"ECE on unsampled test data", "1/w (negatives kept: one in 1/w)", "expected calibration error", {}, true};
    for (size_t m = 0; m < rep.models.size(); ++m) {
        const std::string& name = rep.models[m];
        Series raw{name + " raw", {}, {}}, cal{name + " corrected", {}, {}};
        LineChart diagram{name + ": reliability diagram (test set, first training)", "mean pCTR in bin",
                          "observed CTR in bin", {{"perfect", {0, 1}, {0, 1}}}, false};
        for (const Cell& c : rep.cells[m]) {
            for (size_t r = 0; r < c.auc.size(); ++r)
                res.row({name, fmt("%.6g", c.w), std::to_string(r), fmt("%.6g", c.auc[r]), fmt("%.6g", c.logloss_raw[r]),
                         fmt("%.6g", c.logloss_cal[r]), fmt("%.6g", c.ece_raw[r]), fmt("%.6g", c.ece_cal[r]),
                         fmt("%.6g", c.ratio_raw[r]), fmt("%.6g", c.ratio_cal[r]), c.order_raw[r], c.order_cal[r]});
            for (int which = 0; which < 2; ++which)
                for (const ReliabilityBin& b : which ? c.bins_cal : c.bins_raw)
                    rel.row({name, fmt("%.6g", c.w), which ? "corrected" : "raw", fmt("%g", b.lo), fmt("%g", b.hi),
                             std::to_string(b.count), fmt("%.6g", b.mean_pred), fmt("%.6g", b.mean_label)});
            raw.x.push_back(1.0 / c.w), raw.y.push_back(mean_of(c.ece_raw));
            cal.x.push_back(1.0 / c.w), cal.y.push_back(mean_of(c.ece_cal));
        }
        // The diagram: w = 1, and the smallest w before and after the correction (bins with data only).
        const Cell &full = rep.cells[m].front(), &low = rep.cells[m].back();
        const std::string lw = rate_name(low.w);
        for (auto [label, bins] : {std::pair{std::string("w = 1"), &full.bins_raw},
                                   std::pair{"w = " + lw + " raw", &low.bins_raw},
                                   std::pair{"w = " + lw + " corrected", &low.bins_cal}}) {
            Series s{label, {}, {}};
            for (const ReliabilityBin& b : *bins)
                if (b.count >= 20) s.x.push_back(b.mean_pred), s.y.push_back(b.mean_label);
            diagram.series.push_back(s);
        }
        write_text_file(dir + "/reliability_" + name + ".svg", line_chart_svg(diagram));
        ece.series.push_back(raw), ece.series.push_back(cal);
    }
    write_text_file(dir + "/ece.svg", line_chart_svg(ece));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch65_calibration", "Negative down-sampling at rate w and the CTR correction q = p / (p + (1 - p) / w): "
                                    "the chapter's worked example and a simulation with LR and a small DNN.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    Options o;
    epochs = o.epochs;
    int n_train = 0, repeats = 0;
    flags.add("n-train", &n_train, "training impressions before sampling (default 300000; --quick 40000, with 20000 test rows)");
    flags.add("repeats", &repeats, "trainings per (model, w) (default 3; --quick 2)");
    flags.add("equal-steps", &o.equal_steps, "train sampled runs for as many steps as w = 1 (more epochs)");
    flags.add("lr-dnn", &o.lr_dnn, "Adam learning rate of the DNN (cosine decay to 0)");
    flags.add("lr-lr", &o.lr_logreg, "Adam learning rate of the logistic regression");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.n_train = 40000, o.n_test = 20000, o.repeats = 2;
    if (n_train > 0) o.n_train = n_train;
    if (repeats > 0) o.repeats = repeats;

    std::printf("# Chapter 65: CTR calibration after negative down-sampling\n\n");
    const Results rep = run_experiment(o);
    print_example(rep.example);
    print_data(o, rep);
    for (size_t m = 0; m < rep.models.size(); ++m) print_metrics(rep, m);
    for (size_t m = 0; m < rep.models.size(); ++m) print_revenue(o, rep, m);
    if (!flags.out.empty()) {
        write_outputs(rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch65_calibration", [&] { return run_main(argc, argv); });
}

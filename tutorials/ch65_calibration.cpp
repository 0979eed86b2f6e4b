// Chapter 65: calibrating CTRs after negative down-sampling, as a lab: the worked example, then the
// simulation of ch65_calibration.h (LR and a small DNN trained on logs with negatives kept at rate w,
// judged on unsampled test data before and after q = p / (p + (1 - p) / w)), then the claims table.
#include <chrono>

#include "tutorials/ch65_calibration.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch65;

static std::string rate_name(double w) { return w == 1.0 ? "1" : "1/" + num("%.3g", 1.0 / w); }

static void print_example(Report& report, const WorkedExample& ex) {
    report.text("Before sampling positives : negatives = " + num("%.2f", ex.positives) + " : " + num("%.2f", ex.negatives) +
                "; after, " + num("%.2f", ex.positives) + " : " + num("%.2f", ex.negatives * ex.w) + ".");
    Table t("worked_example", {"ad", "share", "CTR", "CPC", "revenue / imp.", "CTR after sampling", "revenue / imp.",
                               "corrected CTR", "revenue / imp."});
    for (size_t k = 0; k < ex.rows.size(); ++k) {
        const ExampleRow& r = ex.rows[k];
        t.add({kAdNames[k], num("%.0f%%", 100 * r.share), num("%.2f", r.ctr), num("%.0f", r.cpc), num("%.2f", r.revenue),
               num("%.4f", r.sampled), num("%.2f", r.revenue_sampled), num("%.2f", r.corrected), num("%.2f", r.revenue_corrected)});
    }
    report.table(t, "The worked example: negatives kept at w = " + rate_name(ex.w));
    report.text("Revenue order: before sampling " + ex.order + "; after sampling " + ex.order_sampled + "; after correction " + ex.order_corrected + ".");
}

// Ranking, calibration and revenue per w (means over worlds, raw -> corrected): the correction leaves
// AUC alone and repairs logloss, ECE, the mean pCTR and the revenue of each ad.
static void print_model(Report& report, const Options& o, const Results& rep, size_t m) {
    using S = AdScores;
    const std::vector<Cell>& row = rep.cells[m];
    Table t("results_" + rep.models[m], {"w", "train rows", "AUC", "AUC - AUC(w=1)", "logloss", "ECE",
                                         "mean pCTR / CTR", "revenue A", "revenue B", "revenue C", "perfect sampled model"});
    for (size_t i = 0; i <= row.size(); ++i) {   // the rates, then the control
        const Cell& c = i < row.size() ? row[i] : rep.control[m];
        auto arrow = [&](const char* f, double S::*x) { return num(f, c.mean(x)) + " -> " + num(f, c.mean(x, true)); };
        std::vector<std::string> cells = {rate_name(c.w) + (i < row.size() ? "" : " overall, by ad (control)"), num("%.0f", c.train_rows),
            num("%.4f", c.mean(&S::auc)) + " ± " + num("%.4f", stdev_over(c.raw, [](const S& s) { return s.auc; })),
            num("%+.4f", c.mean(&S::auc) - row[0].mean(&S::auc)), arrow("%.4f", &S::logloss), arrow("%.4f", &S::ece), arrow("%.3f", &S::ratio)};
        std::string perfect;
        for (size_t k = 0; k < o.ads.cpc.size(); ++k) {   // the revenue of ad k, mean over worlds
            auto rev = [&](const S& s) { return revenue(s, k, o.ads); };
            cells.push_back(num("%.2f", mean_over(c.raw, rev)) + " -> " + num("%.2f", mean_over(c.cal, rev)));
            perfect += (k ? ", " : "") + num("%.2f", c.oracle_ad_ctr[k] * o.ads.cpc[k]);
        }
        cells.push_back(perfect);
        t.add(cells);
    }
    report.table(t, rep.models[m] + ": unsampled test data, mean over " + std::to_string(o.worlds) +
                        " worlds (raw -> corrected; revenue = mean pCTR x CPC per impression)");
}

static void charts(Report& report, const Results& rep) {
    LineChart ece{"ECE on unsampled test data", "1/w (negatives kept: one in 1/w)", "expected calibration error", {}, true};
    for (size_t m = 0; m < rep.models.size(); ++m) {
        for (bool corrected : {false, true}) {
            Series s{rep.models[m] + (corrected ? " corrected" : " raw"), {}, {}};
            for (const Cell& c : rep.cells[m]) s.x.push_back(1.0 / c.w), s.y.push_back(c.mean(&AdScores::ece, corrected));
            ece.series.push_back(s);
        }
        // The reliability diagram of world 0: w = 1, and the smallest w before and after the correction.
        const Cell &w1 = rep.cells[m].front(), &low = rep.cells[m].back();
        LineChart diagram{rep.models[m] + ": reliability diagram (test set, world 1)", "mean pCTR in bin", "observed CTR in bin",
                          {{"perfect", {0, 1}, {0, 1}}}, false};
        for (auto [label, bins] : {std::pair{std::string("w = 1"), &w1.raw[0].bins}, std::pair{"w = " + rate_name(low.w) + " raw", &low.raw[0].bins},
                                   std::pair{"w = " + rate_name(low.w) + " corrected", &low.cal[0].bins}}) {
            Series s{label, {}, {}};
            for (const ReliabilityBin& b : *bins)
                if (b.count >= 20) s.x.push_back(b.mean_pred), s.y.push_back(b.mean_label);
            diagram.series.push_back(s);
        }
        report.chart(diagram, "reliability_" + rep.models[m]);
    }
    report.chart(ece, "ece");
}

int main(int argc, char** argv) {
    return guarded_main("ch65_calibration", [&] {
        Options o;
        Flags flags("ch65_calibration", "Negative down-sampling at rate w and the CTR correction q = p / (p + (1 - p) / w): "
                                        "the chapter's worked example and a simulation with LR and a small DNN.");
        flags.add("epochs", &o.epochs, "passes over the (sampled) training data", at_least(1));
        flags.add("n-train", &o.n_train, "training impressions per world before sampling", at_least(1000));
        flags.add("n-test", &o.n_test, "unsampled test impressions per world", at_least(1000));
        flags.add("worlds", &o.worlds, "independent worlds (data, negatives kept, init)", at_least(2));
        flags.add("lr-dnn", &o.lr_dnn, "Adam learning rate of the DNN (cosine decay to 0)", above(0.0));
        flags.add("lr-lr", &o.lr_logreg, "Adam learning rate of the logistic regression", above(0.0));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        const auto start = std::chrono::steady_clock::now();
        Report report(flags);
        report.heading("Chapter 65: CTR calibration after negative down-sampling");
        const Results rep = run_experiment(o);
        print_example(report, worked_example(o.ads));
        std::string ads;
        for (double c : rep.truth.test_ad_ctr) ads += (ads.empty() ? "" : ", ") + num("%.4f", c);
        report.text("The simulation: " + std::to_string(o.n_train) + " training impressions per world (CTR " +
                    num("%.4f", rep.truth.train_ctr) + ") before sampling, " + std::to_string(o.n_test) + " unsampled test "
                    "impressions (CTR " + num("%.4f", rep.truth.test_ctr) + "; ads A, B, C: " + ads + "); " + std::to_string(o.worlds) + " worlds, " +
                    std::to_string(o.epochs) + " epochs, batch " + std::to_string(o.batch) + "; seed " +
                    std::to_string(o.seed) + ". The true CTRs score AUC " + num("%.4f", rep.truth.auc) + ", logloss " +
                    num("%.4f", rep.truth.logloss) + ", ECE " + num("%.4f", rep.truth.ece) + ". The main world "
                    "builds in negatives kept uniformly at a known rate w (what the correction undoes); the control "
                    "world keeps the same fraction w of the negatives, but ad A's at 4 times the rate of B's and C's, "
                    "and the correction still uses w. The unsampled truth orders the ads " + revenue_order(o.ads.ctr, o.ads.cpc) +
                    " (revenue 1.80, 1.60, 0.60).");
        for (size_t m = 0; m < rep.models.size(); ++m) print_model(report, o, rep, m);
        charts(report, rep);
        Claims claims = judge(o, rep);
        claims.quick = flags.quick, claims.print(report);
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}

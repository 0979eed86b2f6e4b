// Chapter 73: removing position bias from a representation with an adversary (Moore et al., 2018),
// as a lab: the flags, the experiment of tutorials/ch73_adversarial_debias.h, and its report.
#include <cmath>
#include <string>
#include <vector>

#include "tutorials/ch73_adversarial_debias.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch73;

static Table models_table(const Results& r, const char* world) {
    const std::vector<Replicate>& cell = std::string(world) == "main" ? r.main : r.control;
    Table t(std::string("models_") + world, {"model", "corr with true t", "min over worlds", "top-10% relevance",
                                             "corr with legacy error k", "probe R^2 of b from Z_A", "AUC on held-out log"});
    auto mean = [&](std::vector<double> Replicate::*number, size_t m) {   // "—" where undefined (the control world's k is all zeros)
        const double v = mean_over(cell, [&](const Replicate& x) { return (x.*number)[m]; });
        return std::isnan(v) ? std::string("—") : num("%.4f", v);
    };
    for (size_t m = 0; m < r.models.size(); ++m)
        t.add({r.models[m].name(), mean(&Replicate::truth_corr, m),
               num("%.4f", min_over(cell, [&](const Replicate& x) { return x.truth_corr[m]; })), mean(&Replicate::top_rel, m),
               mean(&Replicate::legacy_corr, m), mean(&Replicate::probe_r2, m), mean(&Replicate::log_auc, m)});
    t.add({"(reference: sum of the content features, untrained)",
           num("%.4f", mean_over(cell, [](const Replicate& x) { return x.ref.features_truth_corr; })), "", "", "", "", ""});
    t.add({"(oracle / random ranking)", "1", "",
           num("%.4f", mean_over(cell, [](const Replicate& x) { return x.ref.oracle_top_rel; })) + " / " +
               num("%.4f", mean_over(cell, [](const Replicate& x) { return x.ref.random_top_rel; })), "", "", ""});
    return t;
}

// Against lambda: position as a feature is lambda = 0; naive and plain are left out (no bypass).
static LineChart lambda_chart(const Results& r) {
    LineChart chart{"Adversarial de-biasing against lambda (main world, mean over worlds)", "log10(1 + lambda)", "value",
                    {}, false, 600, 380};
    chart.series = {{"corr with true relevance", {}, {}}, {"corr with legacy error", {}, {}}, {"probe R^2 of b from Z_A", {}, {}}};
    std::vector<double> Replicate::*const numbers[] = {&Replicate::truth_corr, &Replicate::legacy_corr, &Replicate::probe_r2};
    for (size_t k = 0; k < chart.series.size(); ++k)   // series k: numbers[k], one point per model with a bypass
        for (size_t m = kBypass; m < r.models.size(); ++m) {
            chart.series[k].x.push_back(std::log10(1.0 + r.models[m].lambda));
            chart.series[k].y.push_back(mean_over(r.main, [&](const Replicate& x) { return (x.*numbers[k])[m]; }));
        }
    return chart;
}

int main(int argc, char** argv) {
    return guarded_main("ch73_adversarial_debias", [&] {
        Options o;
        Flags flags("ch73_adversarial_debias", "Removing position bias with an adversary (Moore et al., Microsoft 2018) "
                                               "vs naive, content-only and position-as-feature models, on a simulated ad log.");
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("lists", &o.world.train_lists, "ranked lists in the training log (and in the history)", at_least(100));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("legacy-std", &o.world.legacy_std, "std of the legacy ranker's per-ad error k (main world)", at_least(0.0));
        flags.add("ranker-weight", &o.world.ranker_weight, "weight of the true relevance in the legacy ranker's score", at_least(0.0));
        flags.add("content-noise", &o.world.content_noise, "noise of each content feature as a reading of t", above(0.0));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        o.world.history_lists = o.world.train_lists;

        Report report(flags);
        report.heading("Chapter 73: removing position bias with an adversarial network");
        report.text("Main world: a legacy ranker with a per-ad error (std " + num("%.2f", o.world.legacy_std) + ") wrote the log, so "
                    "the slots, and the historical-CTR feature built from them, carry that error; the control world's legacy ranker "
                    "has no per-ad error (std " + num("%.2f", o.control_legacy_std) + "), so the slots carry no bias about the ads.");
        report.text(std::to_string(o.world.items) + " ads, lists of " + std::to_string(o.world.slots) + " slots (exam 1/k), " +
                    std::to_string(o.world.history_lists) + " history and " + std::to_string(o.world.train_lists) +
                    " training lists per world; ranker weight on relevance " + num("%.2f", o.world.ranker_weight) + ", " +
                    std::to_string(o.world.content) + " content features with noise " + num("%.2f", o.world.content_noise) +
                    "; Adam lr " + num("%g", o.lr) + ", batch " + std::to_string(o.batch) + ", " + std::to_string(o.epochs) +
                    " epochs; " + std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed));
        const Results r = run_experiment(o);
        report.table(models_table(r, "main"), "Main world: ranking ads by true relevance, and the bias left behind (mean over worlds)");
        report.table(models_table(r, "control"), "Control world (no per-ad error in the legacy ranker)");
        report.text("corr: Pearson correlation of the serving score Z_Y with the true relevance logit t_i (and with the legacy "
                    "error k_i) over all ads. Probe R^2: a fresh Bias net trained on the frozen Z_A of training events, scored on "
                    "held-out events (0 = no position left). AUC: the logged clicks (with the bypass where there is one).");
        Claims claims = judge(o, r);
        claims.quick = claims.quick || flags.quick;
        claims.print(report);
        report.chart(lambda_chart(r), "lambda_sweep");
        report.finish(r.seconds);
        return 0;
    });
}

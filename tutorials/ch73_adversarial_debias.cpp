// Chapter 73: removing position bias from a representation with an adversary, as a lab. A
// simulated ad log written by a legacy ranker; a naive model, position as a feature (bypass), and
// the adversarial network at several lambdas; ranking against the true relevance, the bias left in
// each ranking, and how much position a fresh probe can still read from each representation.
// Markdown tables on stdout; CSV and an SVG under --out.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch73_adversarial_debias.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch73;

static void print_models(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Ranking ads by true relevance, and the bias left behind (mean over %zu worlds)\n\n", rep.reps.size());
    std::printf("| model | corr with true t | min over worlds | top-%d%% relevance | corr with legacy error k | "
                "probe R^2 of b from Z_A | AUC on held-out log |\n|---|---|---|---|---|---|---|\n",
                int(o.top_fraction * 100 + 0.5));
    for (size_t m = 0; m < rep.models.size(); ++m)
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", rep.models[m].name().c_str(),
                    rep.mean([&](const Replicate& r) { return r.truth_corr[m]; }),
                    rep.min([&](const Replicate& r) { return r.truth_corr[m]; }),
                    rep.mean([&](const Replicate& r) { return r.top_rel[m]; }),
                    rep.mean([&](const Replicate& r) { return r.legacy_corr[m]; }),
                    rep.mean([&](const Replicate& r) { return r.probe_r2[m]; }),
                    rep.mean([&](const Replicate& r) { return r.log_auc[m]; }));
    std::printf("| (reference: sum of the content features alone) | %.4f | | | | | |\n",
                rep.mean([](const Replicate& r) { return r.features_truth_corr; }));
    std::printf("| (oracle / random ranking) | 1 | | %.4f / %.4f | | | |\n",
                rep.mean([](const Replicate& r) { return r.oracle_top_rel; }),
                rep.mean([](const Replicate& r) { return r.random_top_rel; }));
    std::printf("\ncorr: Pearson correlation of the serving score Z_Y with the true relevance logit t_i (and with the "
                "legacy ranker's error k_i) over all ads. Top relevance: mean true CTR-if-examined of the model's top "
                "ads. Probe R^2: a fresh Bias net trained on the frozen Z_A of training events, scored on held-out "
                "events (0 = no position left). AUC: predicting the logged clicks (with the bypass where there is one).\n\n");
}

static void print_claims(const StudyReport& rep) {
    const size_t naive = 0, bypass = 1, adv = 2;   // the first adversarial lambda
    auto gap = [&](auto f, size_t a, size_t b) { return rep.min([&](const Replicate& r) { return f(r)[a] - f(r)[b]; }); };
    const auto truth = [](const Replicate& r) -> const std::vector<double>& { return r.truth_corr; };
    const auto probe = [](const Replicate& r) -> const std::vector<double>& { return r.probe_r2; };
    const auto legacy = [](const Replicate& r) -> const std::vector<double>& { return r.legacy_corr; };
    const auto top = [](const Replicate& r) -> const std::vector<double>& { return r.top_rel; };
    const std::string name = rep.models[adv].name();
    std::printf("## The paper's claims in this run (%s)\n\n| claim | holds | numbers |\n|---|---|---|\n", name.c_str());
    print_claim("the naive model's representation carries position (probe R^2 well above the adversarial one's)",
                gap(probe, naive, adv) > 0, "smallest gap " + num("%+.4f", gap(probe, naive, adv)));
    print_claim("the adversary removes position from Z_A better than position as a feature does", gap(probe, bypass, adv) > 0,
                "smallest R^2 gap " + num("%+.4f", gap(probe, bypass, adv)));
    print_claim("less of the legacy ranker's error leaks into the ranking than with position as a feature",
                gap(legacy, bypass, adv) > 0, "smallest corr gap " + num("%+.4f", gap(legacy, bypass, adv)));
    print_claim("ranks by true relevance better than the naive model, every world", gap(truth, adv, naive) > 0,
                "smallest corr gap " + num("%+.4f", gap(truth, adv, naive)));
    print_claim("ranks by true relevance better than position as a feature, every world", gap(truth, adv, bypass) > 0,
                "smallest corr gap " + num("%+.4f", gap(truth, adv, bypass)));
    print_claim("puts more relevant ads on top than position as a feature, every world", gap(top, adv, bypass) > 0,
                "smallest gap " + num("%+.4f", gap(top, adv, bypass)));
    std::printf("\n");
}

static void write_outputs(const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"world", "model", "lambda", "truth_corr", "legacy_corr", "top_rel", "probe_r2", "log_auc"});
    for (size_t w = 0; w < rep.reps.size(); ++w)
        for (size_t m = 0; m < rep.models.size(); ++m) {
            const Replicate& r = rep.reps[w];
            runs.row({std::to_string(w), rep.models[m].name(), num("%g", rep.models[m].lambda), num("%.6g", r.truth_corr[m]),
                      num("%.6g", r.legacy_corr[m]), num("%.6g", r.top_rel[m]), num("%.6g", r.probe_r2[m]), num("%.6g", r.log_auc[m])});
        }
    // Against lambda: position as a feature is lambda = 0; the naive model is left out (no bypass).
    LineChart chart{"Adversarial de-biasing against lambda (mean over worlds)", "log10(1 + lambda)", "value", {}, false, 600, 380};
    Series truth{"corr with true relevance", {}, {}}, legacy{"corr with legacy error", {}, {}}, probe{"probe R^2 of b from Z_A", {}, {}};
    for (size_t m = 1; m < rep.models.size(); ++m) {
        const double x = std::log10(1.0 + rep.models[m].lambda);
        for (Series* s : {&truth, &legacy, &probe}) s->x.push_back(x);
        truth.y.push_back(rep.mean([&](const Replicate& r) { return r.truth_corr[m]; }));
        legacy.y.push_back(rep.mean([&](const Replicate& r) { return r.legacy_corr[m]; }));
        probe.y.push_back(rep.mean([&](const Replicate& r) { return r.probe_r2[m]; }));
    }
    chart.series = {truth, legacy, probe};
    write_text_file(dir + "/lambda_sweep.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch73_adversarial_debias", "Removing position bias with an adversary (Moore et al., Microsoft 2018) "
                                           "vs a naive model and position as a feature, on a simulated ad log.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int replicates = 0, lists = 0;
    epochs = o.epochs;
    flags.add("replicates", &replicates, "independent worlds; 0: the configuration's own (3; --quick 2)");
    flags.add("lists", &lists, "ranked lists in the training log (and in the history); 0: the configuration's own (10000; --quick 5000)");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("legacy-std", &o.world.legacy_std, "std of the legacy ranker's per-ad error k");
    flags.add("ranker-weight", &o.world.ranker_weight, "weight of the true relevance in the legacy ranker's score");
    flags.add("content-noise", &o.world.content_noise, "noise of each content feature as a reading of t");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.replicates = 2, o.world.train_lists = o.world.history_lists = 5000, o.world.test_lists = 2000;
    if (replicates > 0) o.replicates = replicates;
    if (lists > 0) o.world.train_lists = o.world.history_lists = lists;

    std::printf("# Chapter 73: removing position bias with an adversarial network\n\n");
    std::printf("%d ads, lists of %d slots (exam 1/k), %d history and %d training lists per world; legacy error std %.2f, "
                "ranker weight on relevance %.2f, %d content features with noise %.2f; Adam lr %g, batch %d, %d epochs; "
                "%d worlds; seed %llu\n\n",
                o.world.items, o.world.slots, o.world.history_lists, o.world.train_lists, o.world.legacy_std,
                o.world.ranker_weight, o.world.content, o.world.content_noise, o.lr, o.batch, o.epochs, o.replicates,
                static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ch73_adversarial_debias: %s\n", e.what());
        return 2;
    }
    print_models(o, rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch73_adversarial_debias", [&] { return run_main(argc, argv); });
}

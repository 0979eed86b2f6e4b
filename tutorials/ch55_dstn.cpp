// Chapter 55: DSTN as a lab. Simulated ad impressions where the click depends on how the target ad
// relates to the contextual ads above it and to the user's clicked and unclicked ads; a target-only
// DNN against DSTN with sum pooling, self-attention and interactive attention.
// Markdown tables on stdout; CSV and SVG pictures (AUC per epoch, attention weights) under --out.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch55_dstn.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch55;

static void print_results(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Test AUC and logloss (%d seeds: mean, standard deviation, worst)\n\n", o.seeds);
    std::printf("| model | AUC | sd | min | logloss | sd | max |\n|---|---|---|---|---|---|---|\n");
    for (int v = 0; v < kNumVariants; ++v) {
        auto a = [&](const Run& r) { return r.auc[v]; };
        auto l = [&](const Run& r) { return r.logloss[v]; };
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", kVariantNames[v], rep.mean(a), rep.stdev(a), rep.min(a),
                    rep.mean(l), rep.stdev(l), -rep.min([&](const Run& r) { return -r.logloss[v]; }));
    }
    std::printf("| (the planted probabilities) | %.4f | | | %.4f | | |\n\n", rep.mean([](const Run& r) { return r.truth_auc; }),
                rep.mean([](const Run& r) { return r.truth_logloss; }));
    std::printf("## Test AUC after each epoch (mean over seeds)\n\n| model |");
    for (int e = 0; e < o.epochs; ++e) std::printf(" epoch %d |", e + 1);
    std::printf("\n|---|");
    for (int e = 0; e < o.epochs; ++e) std::printf("---|");
    std::printf("\n");
    for (int v = 0; v < kNumVariants; ++v) {
        std::printf("| %s |", kVariantNames[v]);
        for (int e = 0; e < o.epochs; ++e) std::printf(" %.4f |", rep.mean([&](const Run& r) { return r.curve[v][size_t(e)]; }));
        std::printf("\n");
    }
    std::printf("\n");
}

static void print_weights(const StudyReport& rep) {
    std::printf("## What the attention looks at: mean weight a_i of an auxiliary ad, by whether it shares the target ad's category\n\n");
    std::printf("| model | kind | same category | other category | ratio |\n|---|---|---|---|---|\n");
    const char* names[] = {"DSTN-S", "DSTN-I"};
    for (int m = 0; m < 2; ++m)
        for (int k = 0; k < kNumAux; ++k) {
            const double s = rep.mean([&](const Run& r) { return r.weight[m][k][0]; });
            const double d = rep.mean([&](const Run& r) { return r.weight[m][k][1]; });
            std::printf("| %s | %s | %.3f | %.3f | %.1f |\n", names[m], kAuxNames[k], s, d, s / d);
        }
    std::printf("\nDSTN-S normalises the weights of each kind to sum to 1 and cannot see the target ad; DSTN-I's "
                "weights exp(h' ReLU(W [x_t; x_i] + b_1) + b_2) depend on the target and are not normalised.\n\n");
}

static void print_claims(const StudyReport& rep) {
    auto gap = [&](int a, int b) { return rep.min([&](const Run& r) { return r.auc[a] - r.auc[b]; }); };
    std::printf("## The paper's claims in this run (smallest AUC gap over seeds)\n\n| claim | holds | numbers |\n|---|---|---|\n");
    print_claim("auxiliary ads help: DSTN-P beats the target-only DNN", gap(1, 0) > 0, num("%+.4f", gap(1, 0)));
    print_claim("DSTN-S beats DSTN-P", gap(2, 1) > 0, num("%+.4f", gap(2, 1)));
    print_claim("DSTN-I beats DSTN-S", gap(3, 2) > 0, num("%+.4f", gap(3, 2)));
    print_claim("DSTN-I beats DSTN-P", gap(3, 1) > 0, num("%+.4f", gap(3, 1)));
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"seed", "model", "auc", "logloss", "truth_auc", "truth_logloss"});
    CsvLogger curves(dir + "/auc_by_epoch.csv", {"seed", "model", "epoch", "auc"});
    for (size_t s = 0; s < rep.runs.size(); ++s) {
        const Run& r = rep.runs[s];
        for (int v = 0; v < kNumVariants; ++v) {
            runs.row({std::to_string(s), kVariantNames[v], num("%.6g", r.auc[v]), num("%.6g", r.logloss[v]),
                      num("%.6g", r.truth_auc), num("%.6g", r.truth_logloss)});
            for (size_t e = 0; e < r.curve[v].size(); ++e)
                curves.row({std::to_string(s), kVariantNames[v], std::to_string(e + 1), num("%.6g", r.curve[v][e])});
        }
    }
    LineChart chart{"Test AUC after each epoch (mean over seeds)", "epoch", "AUC", {}, false, 600, 380};
    for (int v = 0; v < kNumVariants; ++v) {
        Series s{kVariantNames[v], {}, {}};
        for (int e = 0; e < o.epochs; ++e) s.x.push_back(e + 1), s.y.push_back(rep.mean([&](const Run& r) { return r.curve[v][size_t(e)]; }));
        chart.series.push_back(s);
    }
    write_text_file(dir + "/auc_by_epoch.svg", line_chart_svg(chart));
    Heatmap map{"DSTN-I: mean attention weight of an auxiliary ad", "auxiliary ad vs target", "kind", kNumAux, 2, {},
                {kAuxNames[0], kAuxNames[1], kAuxNames[2]}, {"same category", "other category"}, 48};
    for (int k = 0; k < kNumAux; ++k)
        for (int c = 0; c < 2; ++c) map.values.push_back(float(rep.mean([&](const Run& r) { return r.weight[1][k][c]; })));
    write_text_file(dir + "/interactive_weights.svg", heatmap_svg(map));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch55_dstn", "DSTN (Ouyang et al., KDD 2019): a target-only DNN vs DSTN with sum pooling, "
                             "self-attention and interactive attention over contextual, clicked and unclicked ads.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int seeds = 0, rows = 0;
    epochs = o.epochs;
    flags.add("seeds", &seeds, "independent logs; 0: the configuration's own (3; --quick 2)");
    flags.add("rows", &rows, "training impressions per log; 0: the configuration's own (60000; --quick 20000)");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("dim", &o.model.dim, "embedding size d of the ad id and of the category (an ad is 2d)");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.seeds = 2, o.data.rows = 20000, o.data.test_rows = 10000, o.epochs = 4;
    if (seeds > 0) o.seeds = seeds;
    if (rows > 0) o.data.rows = rows;
    if (o.epochs < 1 || o.model.dim < 1 || !(o.lr > 0)) {
        std::fprintf(stderr, "ch55_dstn: --epochs, --dim and --lr must be positive\n");
        return 2;
    }

    std::printf("# Chapter 55: DSTN, deep spatio-temporal CTR prediction\n\n");
    std::printf("%d ads in %d categories; %d training and %d test impressions per log, each with 0-%d contextual, 0-%d "
                "clicked and 0-%d unclicked ads; d = %d, DNN %d-%d; Adam lr %g, batch %d, %d epochs; %d seeds; seed %llu\n\n",
                o.data.ads, o.data.categories, o.data.rows, o.data.test_rows, o.data.max_context, o.data.max_clicked,
                o.data.max_unclicked, o.model.dim, o.model.hidden[0], o.model.hidden[1], o.lr, o.batch, o.epochs, o.seeds,
                static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ch55_dstn: %s\n", e.what());
        return 1;
    }
    print_results(o, rep);
    print_weights(rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        try {
            write_outputs(o, rep, flags.out);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ch55_dstn: writing %s: %s\n", flags.out.c_str(), e.what());
            return 1;
        }
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch55_dstn", [&] { return run_main(argc, argv); });
}

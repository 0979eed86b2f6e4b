// Chapter 55: DSTN as a lab. A target-only DNN against DSTN with sum pooling, self-attention and
// interactive attention, in worlds where the click depends on how the target ad relates to its
// auxiliary ads and in a control world where it does not; the paper's orderings judged over worlds.
#include <chrono>
#include <string>

#include "tutorials/ch55_dstn.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch55;

static int run_main(int argc, char** argv) {
    Options o;
    Flags flags("ch55_dstn", "DSTN (Ouyang et al., KDD 2019): a target-only DNN vs DSTN with sum pooling, "
                             "self-attention and interactive attention over contextual, clicked and unclicked ads.");
    flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
    flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(2));
    flags.add("rows", &o.data.rows, "training impressions per world", at_least(1000));
    flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
    flags.add("dim", &o.model.dim, "embedding size d of the ad id and of the category (an ad is 2d)", at_least(1));
    flags.on_quick([&] { o = quick_options(); });
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    Report report(flags);
    report.heading("Chapter 55: DSTN, deep spatio-temporal CTR prediction");
    report.text(std::to_string(o.data.ads) + " ads in " + std::to_string(o.data.categories) + " categories; " +
                std::to_string(o.data.rows) + " training and " + std::to_string(o.data.test_rows) +
                " test impressions per world; d = " + std::to_string(o.model.dim) + ", DNN 64-32; Adam lr " +
                num("%g", o.lr) + ", batch " + std::to_string(o.batch) + ", " + std::to_string(o.epochs) + " epochs; " +
                std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed));
    report.text("The main world puts every signal beyond the ad's own quality in the relation between the target and its "
                "auxiliary ads (a clicked ad of its category raises its CTR, unclicked and contextual ones lower it); the "
                "control world clicks on the ad's quality alone, so the auxiliary ads carry nothing.");
    const auto start = std::chrono::steady_clock::now();
    const Results r = run_experiment(o);

    Table t("models", {"world", "model", "test AUC", "sd", "test logloss", "sd"});
    for (int c = 0; c < 2; ++c) {
        for (int v = 0; v < kNumVariants; ++v) {
            auto a = [&](const World& w) { return w.auc[v]; };
            auto l = [&](const World& w) { return w.logloss[v]; };
            t.add({kWorlds[c], kVariantNames[v], num("%.4f", mean_over(r.cell[c], a)), num("%.4f", stdev_over(r.cell[c], a)),
                   num("%.4f", mean_over(r.cell[c], l)), num("%.4f", stdev_over(r.cell[c], l))});
        }
        t.add({kWorlds[c], "(the planted probabilities)", num("%.4f", mean_over(r.cell[c], [](const World& w) { return w.truth_auc; })), "",
               num("%.4f", mean_over(r.cell[c], [](const World& w) { return w.truth_logloss; })), ""});
    }
    report.table(t, "Test AUC and logloss (mean and sd over worlds)");

    Table wt("attention", {"model", "kind", "same category", "other category", "ratio"});
    Heatmap map{"DSTN-I: mean attention weight of an auxiliary ad (main world)", "auxiliary ad vs target", "kind", kNumAux, 2, {},
                {kAuxNames[0], kAuxNames[1], kAuxNames[2]}, {"same category", "other category"}, 48};
    for (int m = 0; m < 2; ++m)
        for (int k = 0; k < kNumAux; ++k) {
            const double s = mean_over(r.cell[0], [&](const World& w) { return w.weight[m][k][0]; });
            const double d = mean_over(r.cell[0], [&](const World& w) { return w.weight[m][k][1]; });
            wt.add({m == 0 ? "DSTN-S" : "DSTN-I", kAuxNames[k], num("%.3f", s), num("%.3f", d), num("%.2f", s / d)});
            if (m == 1) map.values.push_back(float(s)), map.values.push_back(float(d));
        }
    report.table(wt, "What the attention looks at (main world): mean weight of an auxiliary ad, by whether it shares the target's category");
    report.text("DSTN-S normalises the weights of each kind to sum to 1 and cannot see the target ad; DSTN-I's weights "
                "exp(h' ReLU(W [x_t; x_i] + b_1) + b_2) depend on the target and are not normalised.");
    report.heatmap(map, "interactive_weights");

    judge(o, r).print(report);
    report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch55_dstn", [&] { return run_main(argc, argv); });
}

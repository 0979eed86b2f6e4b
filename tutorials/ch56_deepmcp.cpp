// Chapter 56: DeepMCP as a lab. A click log from planted user and ad vectors with a long tail of
// rarely shown ads; the prediction subnet trained alone and with the matching and/or correlation
// subnets; test AUC and logloss of the prediction subnet (the only part that serves), judged over
// worlds in the main world and in a control world. CSV under --out.
#include <chrono>
#include <string>

#include "tutorials/ch56_deepmcp.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch56;

static int run_main(int argc, char** argv) {
    Options o;
    Flags flags("ch56_deepmcp", "DeepMCP (Ouyang et al. 2019): the prediction subnet alone and with the matching "
                                "and correlation subnets, on a synthetic ad log with a long tail of rare ads.");
    flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
    flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(2));
    flags.add("rows", &o.world.n, "impressions per world, 80% train", at_least(1000));
    flags.add("alpha", &o.alpha, "weight of the matching loss L_m", at_least(0.0));
    flags.add("beta", &o.beta, "weight of the correlation loss L_c", at_least(0.0));
    flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
    flags.add("ads", &o.world.ads, "number of ads", at_least(2));
    flags.add("zipf", &o.world.zipf, "ad popularity exponent of the main world", at_least(0.0));
    flags.add("history", &o.world.history, "older impressions per logged row whose clicks only the correlation subnet sees",
              at_least(0.0));
    flags.on_quick([&] { o = quick_options(); });
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    Report report(flags);
    report.heading("Chapter 56: DeepMCP, matching and correlation subnets that help CTR prediction");
    report.text(std::to_string(o.world.n) + " impressions per world (80% train), " + std::to_string(o.world.users) + " users in " +
                std::to_string(o.world.segments) + " segments, " + std::to_string(o.world.ads) + " ads in " +
                std::to_string(o.world.categories) + " categories, latent size " + std::to_string(o.world.latent) +
                "; D = " + std::to_string(o.model.dim) + ", prediction DNN 64-32, towers " +
                std::to_string(o.model.tower_hidden.size() + 1) + " layers; Adam lr " + num("%g", o.lr) + ", batch " +
                std::to_string(o.batch) + ", " + std::to_string(o.epochs) + " epochs; alpha " + num("%g", o.alpha) +
                ", beta " + num("%g", o.beta) + ", window " + std::to_string(o.window) + ", " + std::to_string(o.negatives) +
                " negatives; " + std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed));
    report.text("The main world builds in a long tail (Zipf " + num("%g", o.world.zipf) +
                " popularity: most ads have few labelled impressions) and a click history " + num("%g", o.world.history) +
                " times longer than the CTR log that only the correlation subnet sees; the control world shows ads "
                "uniformly and has no extra history.");
    const auto start = std::chrono::steady_clock::now();
    const Results r = run_experiment(o);

    Table t("models", {"world", "model", "AUC", "sd", "logloss", "AUC, rare ads", "AUC, frequent ads", "matching score's AUC",
                       "embedding similarity"});
    for (int c = 0; c < 2; ++c)
        for (int m = 0; m <= kNumModels; ++m) {
            auto row = [&](const WorldResult& w) -> const Result& { return m < kNumModels ? w.models[m] : w.oracle; };
            auto mean = [&](double Result::*f) { return mean_over(r.cell[c], [&](const WorldResult& w) { return row(w).*f; }); };
            const bool match = m == kDeepMP || m == kDeepMCP;
            t.add({kWorlds[c], m < kNumModels ? kModelNames[m] : "oracle (true probability)", num("%.4f", mean(&Result::auc)),
                   num("%.4f", stdev_over(r.cell[c], [&](const WorldResult& w) { return row(w).auc; })),
                   num("%.4f", mean(&Result::logloss)), num("%.4f", mean(&Result::tail_auc)), num("%.4f", mean(&Result::head_auc)),
                   match ? num("%.4f", mean(&Result::match_auc)) : "", m < kNumModels ? num("%.3f", mean(&Result::similarity)) : ""});
        }
    report.table(t, "Test AUC and logloss of the prediction subnet (mean over worlds)");
    report.text("Rare ads: fewer than " + std::to_string(o.tail_count) + " training impressions; their rows are " +
                num("%.1f%%", 100.0 * mean_over(r.cell[0], [](const WorldResult& w) { return w.tail_share; })) +
                " of the main world's test rows. Embedding similarity: the Pearson correlation, over random ad pairs, between "
                "the cosine of their learned ad-id embeddings and of their planted vectors.");

    judge(o, r).print(report);
    report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch56_deepmcp", [&] { return run_main(argc, argv); });
}

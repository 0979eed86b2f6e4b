// Chapter 57: exact-K recommendation as a lab (the experiment is in ch57_exact_k.h): the cards
// table, the estimator's error, and the paper's comparisons judged over worlds. CSV under --out.
#include <chrono>
#include <string>

#include "tutorials/ch57_exact_k.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch57;

static int run_main(int argc, char** argv) {
    Options o;
    Flags flags("ch57_exact_k", "Exact-K recommendation (Gong et al., KDD 2019): GAttN learned from logs (reward estimator, "
                                "demonstrations, REINFORCE + hill-climbing, beam search) against top-K and greedy clique cards.");
    flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(2));
    flags.add("logs", &o.logs, "logged cards per world (the estimator's and the demonstrations' data)", at_least(100));
    flags.add("pretrain", &o.pretrain, "supervised steps on demonstrations", at_least(0));
    flags.add("steps", &o.steps, "RL steps per GAttN variant", at_least(1));
    flags.add("n", &o.world.N, "candidates per request N", between(2, 20));
    flags.add("k", &o.world.K, "card size K", at_least(1));
    flags.add("clash", &o.world.clash, "how much popular items clash in the main world: p_edge (1 - clash q_i q_j)", between(0.0, 1.0));
    flags.add("samples", &o.samples, "cards sampled per request per step (M)", at_least(2));
    flags.add("beam", &o.beam, "beam width at decoding", at_least(1));
    flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
    flags.on_quick([&] { o = quick_options(); });
    flags.check([&] {
        if (o.world.K > o.world.N) throw FlagError("--k " + std::to_string(o.world.K) + ": the card size must be at most --n");
    });
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    Report report(flags);
    report.heading("Chapter 57: exact-K recommendation via maximal clique optimisation");
    report.text("N = " + std::to_string(o.world.N) + ", K = " + std::to_string(o.world.K) + ", edge probability " +
                num("%.2f", o.world.p_edge) + " (1 - " + num("%.2f", o.world.clash) + " q_i q_j); GAttN D = " +
                std::to_string(o.dim) + ", " + std::to_string(o.heads) + " heads, " + std::to_string(o.layers) + " blocks; " +
                std::to_string(o.steps) + " steps of " + std::to_string(o.batch) + " requests x " + std::to_string(o.samples) +
                " sampled cards after " + std::to_string(o.pretrain) + " supervised steps on demonstrations, Adam lr " + num("%g", o.lr) +
                ", hill-climbing weight " + num("%g", o.hc_weight) + ", beam " + std::to_string(o.beam) + "; " + std::to_string(o.logs) +
                " logged cards per world (" + num("%.0f%%", 100 * o.explore) + " random K items, the rest random cliques); " +
                std::to_string(o.test_requests) + " test requests and " + std::to_string(o.worlds) + " worlds per cell; seed " +
                std::to_string(o.seed));
    report.text("The main world makes popular items clash, so the highest-scoring items rarely form a clique; the "
                "control world (clash 0) draws edges independently of the scores.");
    const auto start = std::chrono::steady_clock::now();
    const Results r = run_experiment(o);

    Table t("cards", {"world", "method", "mean true card reward", "hit ratio (a best card)", "share of cliques"});
    for (int c = 0; c < 2; ++c) {
        for (int m = 0; m < kNumMethods; ++m)
            t.add({kWorlds[c], kMethodNames[m], num("%.4f", mean_over(r.cell[c], [&](const World& w) { return w.score[m].reward; })),
                   num("%.3f", mean_over(r.cell[c], [&](const World& w) { return w.score[m].hit; })),
                   num("%.3f", mean_over(r.cell[c], [&](const World& w) { return w.score[m].clique; }))});
        t.add({kWorlds[c], "(best card, by brute force)", num("%.4f", mean_over(r.cell[c], [](const World& w) { return w.best; })), "1", ""});
    }
    report.table(t, "Cards of exactly K out of N candidates (mean over worlds)");
    report.text("The reward estimator's mean |R^ - R| on the full GAttN's test cards: main " +
                num("%.4f", mean_over(r.cell[0], [](const World& w) { return w.est_error; })) + ", control " +
                num("%.4f", mean_over(r.cell[1], [](const World& w) { return w.est_error; })));

    judge(o, r).print(report);
    report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch57_exact_k", [&] { return run_main(argc, argv); });
}

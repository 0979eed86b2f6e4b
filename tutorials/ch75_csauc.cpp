// Chapter 75: csAUC, the CPM-sensitive AUC (Liu & Yin 2019), as a lab. Prints the chapter's worked
// example (orderings of four clicked ads and one unclicked), then grades a family of CTR models by
// AUC, csAUC and auction revenue and asks which metric predicts the revenue. Markdown tables on
// stdout; CSV and an SVG (revenue against each metric) under --out.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch75_csauc.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch75;

static void print_worked_example() {
    std::printf("## The worked example: four clicked ads (bids 4, 3, 2, 1) and one unclicked (-)\n\n");
    std::printf("| ordering | top to bottom | AUC | csAUC | revenue of the top slot |\n|---|---|---|---|---|\n");
    for (const Ordering& o : worked_orderings()) {
        std::string seq;
        for (int l : o.levels) seq += (seq.empty() ? "" : " ") + (l > 0 ? std::to_string(l) : std::string("-"));
        const OrderingMetrics m = grade(o);
        std::printf("| %s | %s | %.2f | %.2f | %.0f |\n", o.name, seq.c_str(), m.auc, m.cs_auc, m.top_revenue);
    }
    std::printf("\nRev(h, l) = bid_h for a clicked h above the unclicked ad, bid_h - bid_l for two clicked "
                "ads: 10 + 10 = 20 at stake. Putting bid 4 fourth loses its 1 + 2 + 3 against the other "
                "three: csAUC = 14/20 while AUC stays 1.\n\n");
}

static void print_world(const StudyOptions& o, const WorldResult& w) {
    std::printf("## One world: every model graded three ways (world 1 of %d)\n\n", o.worlds);
    std::printf("| model | AUC | csAUC | revenue / oracle's |\n|---|---|---|---|\n");
    for (const ModelResult& m : w.models)
        std::printf("| %s | %.4f | %.4f | %.4f |\n", m.name.c_str(), m.auc, m.cs_auc, m.revenue);
    std::printf("\nThe oracle ranks by the true CTR x bid. csAUC is computed on pCTR x bid, the score the "
                "auction ranks by.\n\n");
}

static void print_correlations(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Which metric predicts revenue? Kendall's tau with revenue over the %zu models\n\n",
                rep.worlds[0].models.size());
    std::printf("| world | tau(AUC, revenue) | tau(csAUC, revenue) | tau(csAUC on pCTR alone, revenue) | "
                "pairs where AUC and revenue disagree | of those, csAUC agrees with revenue |\n|---|---|---|---|---|---|\n");
    double sa = 0, sc = 0, sp = 0;
    for (size_t r = 0; r < rep.worlds.size(); ++r) {
        const WorldResult& w = rep.worlds[r];
        std::printf("| %zu | %.3f | %.3f | %.3f | %d | %d |\n", r + 1, w.tau_auc, w.tau_cs_auc, w.tau_cs_auc_pctr,
                    w.flips, w.flips_cs_agrees);
        sa += w.tau_auc / double(o.worlds), sc += w.tau_cs_auc / double(o.worlds), sp += w.tau_cs_auc_pctr / double(o.worlds);
    }
    std::printf("| mean | %.3f | %.3f | %.3f | | |\n\n", sa, sc, sp);
}

static void print_lr_pair(const StudyReport& rep) {
    std::printf("## Training with bid weights: AUC falls, revenue and csAUC rise\n\n");
    std::printf("| world | AUC: LR -> bid-weighted | csAUC | revenue |\n|---|---|---|---|\n");
    for (size_t r = 0; r < rep.worlds.size(); ++r) {
        const ModelResult *u = find_model(rep.worlds[r], "LR"), *b = find_model(rep.worlds[r], "LR, bid-weighted");
        std::printf("| %zu | %.4f -> %.4f | %.4f -> %.4f | %.4f -> %.4f |\n", r + 1, u->auc, b->auc, u->cs_auc,
                    b->cs_auc, u->revenue, b->revenue);
    }
    std::printf("\n");
}

static void write_outputs(const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger models(dir + "/models.csv", {"world", "model", "auc", "cs_auc", "cs_auc_on_pctr", "revenue_over_oracle"});
    for (size_t r = 0; r < rep.worlds.size(); ++r)
        for (const ModelResult& m : rep.worlds[r].models)
            models.row({std::to_string(r + 1), m.name, std::to_string(m.auc), std::to_string(m.cs_auc),
                        std::to_string(m.cs_auc_pctr), std::to_string(m.revenue)});
    // World 1's models sorted by revenue, each metric against the same x: rank by revenue.
    std::vector<ModelResult> ms = rep.worlds[0].models;
    std::sort(ms.begin(), ms.end(), [](const ModelResult& a, const ModelResult& b) { return a.revenue < b.revenue; });
    LineChart chart{"World 1: models sorted by revenue (x), each metric's value (y)", "model rank by revenue",
                    "value", {}, false, 560, 360};
    Series rev{"revenue / oracle's", {}, {}}, a{"AUC", {}, {}}, c{"csAUC", {}, {}};
    for (size_t i = 0; i < ms.size(); ++i) {
        rev.x.push_back(double(i + 1)), rev.y.push_back(ms[i].revenue);
        a.x.push_back(double(i + 1)), a.y.push_back(ms[i].auc);
        c.x.push_back(double(i + 1)), c.y.push_back(ms[i].cs_auc);
    }
    chart.series = {rev, a, c};
    write_text_file(dir + "/metrics_vs_revenue.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch75_csauc", "csAUC (CPM-sensitive AUC, Liu & Yin 2019) vs AUC as predictors of auction revenue, "
                              "over a family of CTR models on a simulated ad market.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    epochs = 0;   // 0: the chapter's default, 4 epochs of the LR models
    int worlds = 0, auctions = 0;
    flags.add("worlds", &worlds, "independent simulated worlds (default 5; --quick 3)");
    flags.add("auctions", &auctions, "test auctions per world (default 20000; --quick 10000)");
    flags.add("per-auction", &o.world.per_auction, "candidates per auction");
    flags.add("ads", &o.world.ads, "number of ads");
    flags.add("high-share", &o.world.high_share, "share of ads (highest bids) whose taste differs");
    flags.add("taste", &o.world.taste, "how strongly clicks depend on the user features (|v_H| = |v_L|)");
    flags.add("bid-sigma", &o.world.bid_sigma, "spread of the log bids");
    flags.add("lr", &o.train.lr, "Adam learning rate of the LR models");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    if (flags.quick) o.worlds = 3, o.world.auctions = 10000;
    if (epochs > 0) o.train.epochs = epochs;
    if (worlds > 0) o.worlds = worlds;
    if (auctions > 0) o.world.auctions = auctions;

    std::printf("# Chapter 75: csAUC, the CPM-sensitive AUC\n\n");
    print_worked_example();
    std::printf("Simulation: %d ads (%.0f%% high-bid with a different taste), %d features, %d training rows, "
                "%d test auctions of %d candidates, %d worlds; LR %d epochs, Adam lr %g; seed %llu\n\n",
                o.world.ads, 100 * o.world.high_share, o.world.features, o.world.train_rows, o.world.auctions,
                o.world.per_auction, o.worlds, o.train.epochs, o.train.lr, static_cast<unsigned long long>(o.seed));
    const StudyReport rep = run_study(o);
    print_world(o, rep.worlds[0]);
    print_correlations(o, rep);
    print_lr_pair(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch75_csauc", [&] { return run_main(argc, argv); });
}

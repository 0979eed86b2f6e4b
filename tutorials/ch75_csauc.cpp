// Chapter 75: csAUC, the CPM-sensitive AUC (Liu & Yin 2019), as a lab. Prints the worked example
// (orderings of four clicked ads and one unclicked; the bids are ours), then grades a family of CTR
// models by AUC, csAUC and auction revenue in a main and a control world and judges the claims.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "tutorials/ch75_csauc.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch75;

static Table worked_example() {
    Table t("worked_example", {"ordering (ours)", "top to bottom", "AUC", "csAUC", "revenue of the top slot"});
    for (const Ordering& o : worked_orderings()) {
        std::string seq;
        for (int l : o.levels) seq += (seq.empty() ? "" : " ") + (l > 0 ? std::to_string(l) : std::string("-"));
        const OrderingMetrics m = grade(o);
        t.add({o.name, seq, num("%.2f", m.auc), num("%.2f", m.cs_auc), num("%.0f", m.top_revenue)});
    }
    return t;
}

static Table one_world(const WorldResult& w) {
    Table t("models_world1", {"model", "AUC", "csAUC", "revenue / oracle's"});
    for (const ModelResult& m : w.models)
        t.add({m.name, num("%.4f", m.auc), num("%.4f", m.cs_auc), num("%.4f", m.revenue)});
    return t;
}

static Table per_world(const Results& r) {
    Table t("per_world", {"world", "tau(AUC, rev)", "tau(csAUC, rev)", "tau(csAUC on pCTR, rev)",
                          "LR -> bid-weighted: AUC", "csAUC", "revenue"});
    for (const char* cell : {"main", "control"}) {
        const std::vector<WorldResult>& ws = std::string(cell) == "main" ? r.main : r.control;
        for (size_t i = 0; i < ws.size(); ++i) {
            const ModelResult &u = ws[i].lr(false), &b = ws[i].lr(true);
            t.add({std::string(cell) + " " + std::to_string(i + 1), num("%.3f", ws[i].tau_auc), num("%.3f", ws[i].tau_cs_auc),
                   num("%.3f", ws[i].tau_cs_auc_pctr), num("%.4f", u.auc) + " -> " + num("%.4f", b.auc),
                   num("%.4f", u.cs_auc) + " -> " + num("%.4f", b.cs_auc), num("%.4f", u.revenue) + " -> " + num("%.4f", b.revenue)});
        }
    }
    return t;
}

// World 1's models sorted by revenue, each metric against the same x: rank by revenue.
static LineChart metrics_chart(const WorldResult& w) {
    std::vector<ModelResult> ms = w.models;
    std::sort(ms.begin(), ms.end(), [](const ModelResult& a, const ModelResult& b) { return a.revenue < b.revenue; });
    LineChart chart{"Main world 1: models sorted by revenue (x), each metric's value (y)", "model rank by revenue", "value", {}, false, 560, 360};
    const std::pair<const char*, double ModelResult::*> metrics[] = {
        {"revenue / oracle's", &ModelResult::revenue}, {"AUC", &ModelResult::auc}, {"csAUC", &ModelResult::cs_auc}};
    for (const auto& [name, metric] : metrics) {
        Series s{name, {}, {}};
        for (size_t i = 0; i < ms.size(); ++i) s.x.push_back(double(i + 1)), s.y.push_back(ms[i].*metric);
        chart.series.push_back(s);
    }
    return chart;
}

int main(int argc, char** argv) {
    return guarded_main("ch75_csauc", [&] {
        Options o;
        Flags flags("ch75_csauc", "csAUC (CPM-sensitive AUC, Liu & Yin 2019) vs AUC as predictors of auction revenue, "
                                  "over a family of CTR models on a simulated ad market, main and control worlds.");
        flags.add("epochs", &o.epochs, "passes over the training data of the LR models", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("auctions", &o.world.auctions, "test auctions per world", at_least(10));
        flags.add("per-auction", &o.world.per_auction, "candidates per auction", at_least(2));
        flags.add("ads", &o.world.ads, "number of ads", at_least(10));
        flags.add("high-share", &o.world.high_share, "share of ads whose taste differs", between(0.05, 0.95));
        flags.add("taste", &o.world.taste, "how strongly clicks depend on the user features", at_least(0.0));
        flags.add("bid-sigma", &o.world.bid_sigma, "spread of the log bids", at_least(0.0));
        flags.add("lr", &o.lr, "Adam learning rate of the LR models", above(0.0));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        const auto start = std::chrono::steady_clock::now();
        Report report(flags);
        report.heading("Chapter 75: csAUC, the CPM-sensitive AUC");
        report.table(worked_example(), "The worked example: four clicked ads (bids 4, 3, 2, 1) and one unclicked (-)");
        report.text("The orderings and bids are ours (the seed's sample table is an image); the seed gives the definition, the "
                    "pair count C(4,2) + 4 x 1 = 10, and the case of the highest bid ranked 4th: AUC stays 1 while csAUC = 14/20 "
                    "(it loses 1 + 2 + 3 of the 20 at stake).");
        report.text("Main world: the highest-bidding " + num("%.0f", 100 * o.world.high_share) +
                    "% of ads respond to a user direction of their own, so a model can be good on cheap ads and bad on "
                    "expensive ones; the control world gives that taste to a random share of ads instead.");
        report.text("Simulation: " + std::to_string(o.world.ads) + " ads, " + std::to_string(o.world.features) + " features, " +
                    std::to_string(o.world.train_rows) + " training rows, " + std::to_string(o.world.auctions) + " test auctions of " +
                    std::to_string(o.world.per_auction) + " candidates, " + std::to_string(o.worlds) + " worlds per cell; LR " +
                    std::to_string(o.epochs) + " epochs, Adam lr " + num("%g", o.lr) + "; seed " + std::to_string(o.seed));
        const Results r = run_experiment(o);
        report.table(one_world(r.main[0]), "One main world: every model graded three ways");
        report.text("The oracle ranks by the true CTR x bid. csAUC is computed on pCTR x bid, the score the auction ranks by.");
        report.table(per_world(r), "Per world: Kendall's tau with revenue over the " + std::to_string(r.main[0].models.size()) + " models, and the LR pair");
        judge(o, r, flags.quick).print(report);
        report.chart(metrics_chart(r.main[0]), "metrics_vs_revenue");
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}

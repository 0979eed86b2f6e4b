// Chapter 71: PAL, position-bias aware learning (Guo et al., RecSys 2019), as a lab: the flags, the
// experiment of tutorials/ch71_pal.h, and its report.
#include <string>
#include <vector>

#include "tutorials/ch71_pal.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch71;

static Table ranking_table(const Options& o, const Results& r) {
    Table t("ranking", {"cell", "model", "NDCG@" + std::to_string(o.ndcg_k), "min over worlds",
                        "top-slot CTR (counterfactual)", "AUC on held-out logs"});
    for (const Cell& c : r.cells) {
        std::string slots;   // position as feature's validation-chosen slot in each world
        for (const Replicate& x : c.reps) slots += " " + std::to_string(x.best_slot + 1);
        for (int m = 0; m < kNumModels; ++m) {
            const std::string name = std::string(kModelNames[m]) + (m == kPosFeature ? " (slots" + slots + ")" : "");
            t.add({c.name, name, num("%.4f", mean_over(c.reps, [&](const Replicate& x) { return x.ndcg[m]; })),
                   num("%.4f", min_over(c.reps, [&](const Replicate& x) { return x.ndcg[m]; })),
                   num("%.4f", mean_over(c.reps, [&](const Replicate& x) { return x.top_ctr[m]; })),
                   num("%.4f", mean_over(c.reps, [&](const Replicate& x) { return x.log_auc[m]; }))});
        }
        t.add({c.name, "(oracle: true relevance / random)", "1", "",
               num("%.4f", mean_over(c.reps, [](const Replicate& x) { return x.oracle_top_ctr; })) + " / " +
                   num("%.4f", mean_over(c.reps, [](const Replicate& x) { return x.random_top_ctr; })), ""});
    }
    return t;
}

static Table slots_table(const Options& o, const Results& r) {
    Table t("baseline_slots", {"cell", "PAL"});
    for (int k = 0; k < o.data.list_size; ++k) t.columns.push_back("slot " + std::to_string(k + 1));
    for (const Cell& c : r.cells) {
        std::vector<std::string> row = {c.name, num("%.4f", mean_over(c.reps, [](const Replicate& x) { return x.ndcg[kPAL]; }))};
        for (int k = 0; k < o.data.list_size; ++k)
            row.push_back(num("%.4f", mean_over(c.reps, [&](const Replicate& x) { return x.ndcg_at_slot[size_t(k)]; })));
        t.add(row);
    }
    return t;
}

static Table curves_table(const Options& o, const Cell& c) {
    Table t("exam_curves", {"slot", "truth 1/k", "PAL: ProbSeen_k / ProbSeen_1", "naive: CTR_k / CTR_1"});
    for (size_t k = 0; k < size_t(o.data.list_size); ++k)
        t.add({std::to_string(k + 1), num("%.3f", mean_over(c.reps, [&](const Replicate& x) { return x.exam_prob[k] / x.exam_prob[0]; })),
               num("%.3f", mean_over(c.reps, [&](const Replicate& x) { return sigmoid(x.beta[k]) / sigmoid(x.beta[0]); })),
               num("%.3f", mean_over(c.reps, [&](const Replicate& x) { return x.ctr[k] / x.ctr[0]; }))});
    return t;
}

int main(int argc, char** argv) {
    return guarded_main("ch71_pal", [&] {
        Options o;
        Flags flags("ch71_pal", "PAL vs position as a feature vs a position-unaware CTR model on simulated "
                                "position-biased logs (Guo et al., RecSys 2019).");
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell", at_least(1));
        flags.add("lists", &o.data.num_lists, "ranked lists of 10 slots per world", at_least(100));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("dim", &o.dim, "FM factor size D", at_least(1));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 71: PAL, position-bias aware learning");
        report.text("Main cells: a click needs examination, which falls as 1/k with the slot k, so the logs confound position "
                    "with relevance; the control cell has no position effect (every slot examined alike), so there is no bias for "
                    "PAL to factor out.");
        report.text(std::to_string(o.data.num_users) + " users, " + std::to_string(o.data.num_items) + " items, " +
                    std::to_string(o.data.num_lists) + " lists of " + std::to_string(o.data.list_size) + " slots per world (80% "
                    "train, 10% validation, 10% test); FM with D = " + std::to_string(o.dim) + "; Adam lr " + num("%g", o.lr) +
                    ", batch " + std::to_string(o.batch) + ", " + std::to_string(o.epochs) + " epochs; " +
                    std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed));
        const Results r = run_experiment(o);
        report.table(ranking_table(o, r), "Ranking by true relevance: graded NDCG@" + std::to_string(o.ndcg_k) +
                                              " over all items per user (mean over worlds)");
        report.text("Position as feature is served at the slot with the best AUC on the validation logs (its slot in "
                    "each world in brackets). Top-slot CTR: mean true relevance of each user's top item.");
        report.table(slots_table(o, r), "Position as feature served at each fixed slot: NDCG@" + std::to_string(o.ndcg_k));
        report.table(curves_table(o, r.cells[r.cells.size() - 2]),
                     "Examination relative to slot 1 (" + r.cells[r.cells.size() - 2].name + ", mean over worlds)");
        Claims claims = judge(o, r);
        claims.quick = claims.quick || flags.quick;
        claims.print(report);
        report.finish(r.seconds);
        return 0;
    });
}

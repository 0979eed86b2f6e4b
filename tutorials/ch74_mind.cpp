// Chapter 74: MIND (Li et al., CIKM 2019), multi-interest retrieval with B2I dynamic routing and label-
// aware attention, against mean pooling and K independent poolings; claims judged over worlds.
#include <cmath>

#include "tutorials/ch74_mind.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch74;

static Table models_table(const Options& o, const std::vector<Results>& cell, const std::string& name) {
    std::vector<std::string> cols = {"model"};
    for (int n : o.Ns) cols.push_back("HR@" + std::to_string(n));
    for (int n : o.Ns) cols.push_back("Recall@" + std::to_string(n));
    cols.push_back("Rand index (untrained -> trained)");
    Table t(name, cols);
    for (size_t m = 0; m < cell[0].results.size(); ++m) {
        std::vector<std::string> row = {cell[0].results[m].spec.name};
        for (size_t n = 0; n < o.Ns.size(); ++n)
            row.push_back(num("%.4f", mean_over(cell, [&](const Results& w) { return w.results[m].hit[n]; })));
        for (size_t n = 0; n < o.Ns.size(); ++n)
            row.push_back(num("%.4f", mean_over(cell, [&](const Results& w) { return w.results[m].recall[n]; })));
        const double ri0 = mean_over(cell, [&](const Results& w) { return w.results[m].rand_index_untrained; });
        const double ri = mean_over(cell, [&](const Results& w) { return w.results[m].rand_index; });
        row.push_back(std::isnan(ri) ? "" : num("%.3f", ri0) + " -> " + num("%.3f", ri));
        t.add(row);
    }
    std::vector<std::string> oracle(cols.size(), "");
    oracle[0] = "(planted oracle)";
    for (size_t n = 0; n < o.Ns.size(); ++n) oracle[1 + o.Ns.size() + n] = num("%.4f", mean_over(cell, [&](const Results& w) { return w.oracle[n]; }));
    t.add(oracle);
    return t;
}

static Table by_m_table(const Options& o, const std::vector<Results>& cell) {
    std::vector<std::string> cols = {"model"};
    for (int m = o.world.min_interests; m <= o.world.max_interests; ++m) cols.push_back("m = " + std::to_string(m));
    Table t("recall_by_interests", cols);
    for (size_t k = 0; k <= cell[0].results.size(); ++k) {
        const bool oracle = k == cell[0].results.size();
        std::vector<std::string> row = {oracle ? "(planted oracle)" : cell[0].results[k].spec.name};
        for (size_t mi = 0; mi + 1 < cols.size(); ++mi)
            row.push_back(num("%.4f", mean_over(cell, [&](const Results& w) {
                return oracle ? datasets::multi_interest_oracle_recall(o.world, o.world.min_interests + int(mi), o.Ns.back())
                              : w.results[k].recall_by_m[mi].back();
            })));
        t.add(row);
    }
    return t;
}

int main(int argc, char** argv) {
    return guarded_main("ch74_mind", [&] {
        Options o;
        Flags flags("ch74_mind", "MIND (Li et al., CIKM 2019): multi-interest retrieval with B2I dynamic routing and "
                                 "label-aware attention vs a single-vector model, on users who mix planted item clusters.");
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("dim", &o.dim, "D, the embedding and interest size", at_least(1));
        flags.add("negatives", &o.negatives, "sampled-softmax negatives per batch", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("train-users", &o.world.train_users, "training users per world (one example each)", at_least(100));
        flags.add("max-interests", &o.world.max_interests, "most clusters a main-world user mixes", between(1, 8));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 74: MIND, multi-interest retrieval");
        report.text("Main world: each user mixes " + std::to_string(o.world.min_interests) + "-" +
                    std::to_string(o.world.max_interests) + " planted item clusters, which one vector cannot point at "
                    "together; the control world gives every user a single interest.");
        report.text(std::to_string(o.world.clusters) + " clusters of " + std::to_string(o.world.items_per_cluster) +
                    " items, " + std::to_string(o.world.train_users) + " training and " + std::to_string(o.world.test_users) +
                    " test users per world; D = " + std::to_string(o.dim) + ", Adam lr " + num("%g", o.lr) + ", " +
                    std::to_string(o.epochs) + " epochs, " + std::to_string(o.negatives) + " sampled negatives; " +
                    std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed));
        const Experiment e = run_experiment(o);
        report.table(models_table(o, e.main, "models_main"), "Main world: retrieval over the whole catalogue (mean over worlds)");
        report.table(models_table(o, e.control, "models_control"), "Control world: one interest per user");
        report.table(by_m_table(o, e.main), "Main world: Recall@" + std::to_string(o.Ns.back()) +
                                                " by the number of planted interests m");
        report.text("Rand index: agreement of the capsules (argmax_j w_ij) with the planted clusters over pairs of "
                    "behaviours of test users with m >= 2 (1 = the capsules are the clusters).");
        Claims claims = judge(o, e);
        claims.quick = claims.quick || flags.quick;
        claims.print(report);
        report.finish(e.seconds);
        return 0;
    });
}

// Chapter 74: MIND (Li et al., CIKM 2019), multi-interest retrieval with B2I dynamic routing and label-
// aware attention, against mean pooling and K independent poolings; claims judged over worlds, or the
// same models on MovieLens-100k (--data).
#include <chrono>

#include "tutorials/ch74_mind.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/next_item_report.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch74;
static std::string n(int x) { return std::to_string(x); }

static Table models_table(const Options& o, const std::vector<Results>& cell, const std::string& name) {
    std::vector<std::string> cols = {"model"};
    for (const char* metric : {"HR@", "Recall@"}) for (int N : o.Ns) cols.push_back(metric + n(N));
    cols.push_back("Rand index (untrained -> trained)");
    Table t(name, cols);
    for (size_t m = 0; m < cell[0].results.size(); ++m) {
        std::vector<std::string> row = {o.specs[m].name};
        for (auto metric : {&Result::hit, &Result::recall})
            for (size_t i = 0; i < o.Ns.size(); ++i) row.push_back(num("%.4f", mean_over(cell, [&](const Results& w) { return (w.results[m].*metric)[i]; })));
        const double ri0 = mean_over(cell, [&](const Results& w) { return w.results[m].rand_index_untrained; });
        const double ri = mean_over(cell, [&](const Results& w) { return w.results[m].rand_index; });
        row.push_back(std::isnan(ri) ? "" : num("%.3f", ri0) + " -> " + num("%.3f", ri));
        t.add(row);
    }
    std::vector<std::string> oracle(cols.size(), "");
    oracle[0] = "(planted oracle)";
    for (size_t i = 0; i < o.Ns.size(); ++i) oracle[1 + o.Ns.size() + i] = num("%.4f", mean_over(cell, [&](const Results& w) { return w.oracle[i]; }));
    return t.add(oracle);
}

static Table by_m_table(const Options& o, const std::vector<Results>& cell) {
    std::vector<std::string> cols = {"model"};
    for (int m = o.world.min_interests; m <= o.world.max_interests; ++m) cols.push_back("m = " + n(m));
    Table t("recall_by_interests", cols);
    for (size_t k = 0; k <= cell[0].results.size(); ++k) {
        const bool oracle = k == cell[0].results.size();
        std::vector<std::string> row = {oracle ? "(planted oracle)" : o.specs[k].name};
        for (size_t mi = 0; mi + 1 < cols.size(); ++mi)
            row.push_back(num("%.4f", mean_over(cell, [&](const Results& w) { return oracle ? datasets::multi_interest_oracle_recall(
                o.world, o.world.min_interests + int(mi), o.Ns.back()) : w.results[k].recall_by_m[mi].back(); })));
        t.add(row);
    }
    return t;
}

static void print_synthetic(Report& report, const Options& o, const Experiment& e) {
    report.text("Main world: each user mixes " + n(o.world.min_interests) + "-" + n(o.world.max_interests) + " planted item clusters, "
                "which one vector cannot point at together; the control world gives every user a single interest.");
    report.text(n(o.world.clusters) + " clusters of " + n(o.world.items_per_cluster) + " items, " + n(o.world.train_users) + " training and " +
                n(o.world.test_users) + " test users per world; D = " + n(o.dim) + ", Adam lr " + num("%g", o.lr) + ", " + n(o.epochs) +
                " epochs, " + n(o.negatives) + " sampled negatives; " + n(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed));
    report.table(models_table(o, e.main, "models_main"), "Main world: retrieval over the whole catalogue (mean over worlds)");
    report.table(models_table(o, e.control, "models_control"), "Control world: one interest per user");
    report.table(by_m_table(o, e.main), "Main world: Recall@" + n(o.Ns.back()) + " by the number of planted interests m");
    report.text("Rand index: agreement of the capsules (argmax_j w_ij) with the planted clusters over pairs of behaviours of test "
                "users with m >= 2 (1 = the capsules are the clusters).");
}

// --data: every model and popularity, HR@10, NDCG@10 and MRR sampled and full, mean over seeds.
static void print_real(Report& report, const Options& o, const Experiment& e, const std::string& path) {
    report.text("MovieLens-100k from " + path + ", the protocol of datasets/next_item.h. Training: the item at each of a user's last 50 "
                "training positions after up to " + n(o.world.max_history) + " items before it; D = " + n(o.dim) + ", Adam lr " + num("%g", o.lr) +
                ", " + n(o.epochs) + " epochs, " + n(o.negatives) + " sampled negatives; " + n(o.worlds) + " seeds (the same data: they differ "
                "only in initialisation and batch order, so no verdicts); seed " + std::to_string(o.seed) + ".");
    std::vector<std::string> names(o.specs.size() + 1, "popularity");
    for (size_t m = 0; m < o.specs.size(); ++m) names[m] = o.specs[m].name;
    auto q = [&](size_t m, size_t s) { return m < o.specs.size() ? e.main[s].results[m].q : e.popularity; };
    report.table(next_item_table(names, e.main.size(), q), "Test item of " + n(e.popularity.users) + " users: among 100 popularity-drawn negatives, "
                                            "then (full) among every unseen item; mean over seeds");
}

int main(int argc, char** argv) {
    return guarded_main("ch74_mind", [&] {
        Options o;
        Flags flags("ch74_mind", "MIND (Li et al., CIKM 2019): multi-interest retrieval with B2I dynamic routing and label-aware "
                                 "attention vs a single-vector model, on users who mix planted item clusters or on MovieLens-100k.");
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("dim", &o.dim, "D, the embedding and interest size", at_least(1));
        flags.add("negatives", &o.negatives, "sampled-softmax negatives per batch", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("train-users", &o.world.train_users, "training users per world (one example each)", at_least(100));
        flags.add("max-interests", &o.world.max_interests, "most clusters a main-world user mixes", between(1, 8));
        flags.on_quick([&] { o = quick_options(); });
        std::string data;
        RealData real;   // --data: 3 seeds, 3 epochs, D = 16 unless set
        add_movielens_flag(flags, &data, [&](const datasets::MovieLens100k& ml) {
            o.worlds = flags.given("worlds") ? o.worlds : 3, o.epochs = flags.given("epochs") ? o.epochs : 3, o.dim = flags.given("dim") ? o.dim : 16;
            real = datasets::next_item_world(ml, 50, 50, flags.seed), o.world = real.data.opt;
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        const auto start = std::chrono::steady_clock::now();
        Report report(flags);
        report.heading("Chapter 74: MIND, multi-interest retrieval");
        const Experiment e = run_experiment(o, data.empty() ? nullptr : &real);
        data.empty() ? print_synthetic(report, o, e) : print_real(report, o, e, data);
        judge(o, e, flags.quick).print(report);
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}

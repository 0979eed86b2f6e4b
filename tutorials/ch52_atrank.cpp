// Chapter 52: ATRank, attention over heterogeneous user behaviours, as a lab. Synthetic logs of clicks and
// searches with a planted rule (a click leads to a purchase only if its session holds a search, and only if
// recent); mean pooling, a GRU, candidate attention and ATRank trained on them; held-out AUC paired per world,
// main and control; or MovieLens-100k's next item (--data). Markdown on stdout, CSV under --out.
#include "tutorials/ch52_atrank.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/next_item_report.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch52;
static std::string n(int x) { return std::to_string(x); }

static void print_results(Report& report, const Options& o, const Results& r) {
    report.text(n(o.world.categories) + " categories x " + n(o.world.items_per_category) + " items; " + n(o.world.train_histories) +
                " training and " + n(o.world.test_histories) + " test users per world, 6 candidates each; label noise " +
                num("%.2f", o.world.label_noise) + "; d = " + n(o.sizes.space) + ", K = " + n(o.sizes.spaces) + "; Adam lr " +
                num("%g", o.lr) + ", batches of " + n(o.batch) + " users, " + n(o.epochs) + " epochs; " + n(o.worlds) +
                " worlds per cell; seed " + std::to_string(o.seed) + ".");
    report.text("What the main world builds in: a click is followed by a purchase only when a search shares its session, a link "
                "between two behaviours that self-attention can find and the baselines cannot see directly. The control world "
                "drops that link (any recent click is a purchase).");
    Table t("auc", {"encoder", "main: AUC (noisy labels)", "main: AUC against the rule", "control: AUC (noisy labels)",
                    "control: AUC against the rule"});
    auto cell = [&](const std::vector<WorldResult>& v, int m, bool truth) {
        if (v.empty()) return std::string("—");
        return num("%.4f", mean_over(v, [&](const WorldResult& x) { return truth ? x.test[m].truth_auc : x.test[m].auc; }));
    };
    for (int m = 0; m < kNumModels; ++m)
        if (o.train_model[size_t(m)])
            t.add({kModelNames[m], cell(r.main, m, false), cell(r.main, m, true), cell(r.control, m, false), cell(r.control, m, true)});
    report.table(t, "Held-out AUC, mean over " + std::to_string(o.worlds) + " worlds per cell");
    report.text("With label noise " + num("%.2f", o.world.label_noise) + " the best possible AUC against the noisy labels is below 1; against the rule it is 1.");
    Table k("scores_by_kind", {"candidate (main world)"});
    for (int m = 0; m < kNumModels; ++m) k.columns.push_back(kModelNames[m]);
    for (int kind = 0; kind < kNumKinds; ++kind) {
        std::vector<std::string> row = {kKindNames[kind]};
        for (int m = 0; m < kNumModels; ++m)
            row.push_back(num("%.3f", mean_over(r.main, [&](const WorldResult& x) { return x.test[m].mean_score[kind]; })));
        k.add(row);
    }
    report.table(k, "Mean predicted probability by kind of candidate (main world, mean over worlds)");
    Table a("atrank_attention", {"world", "ATRank AUC - candidate attention AUC", "attention on own session's search", "on all other searches"});
    for (size_t i = 0; i < r.main.size(); ++i)
        a.add({std::to_string(i + 1), num("%+.4f", r.main[i].test[kATRank].auc - r.main[i].test[kTargetAttention].auc),
               num("%.3f", r.main[i].self_to_own_query), num("%.3f", r.main[i].self_to_other_query)});
    report.table(a, "Main world: where ATRank's searched clicks look (self-attention averaged over the K spaces)");
}

// --data: the setting, then HR@10, NDCG@10 and MRR per model, sampled and full, mean over seeds.
static void print_real(Report& report, const Options& o, const Results& r, const std::string& path) {
    const RealLogOptions lo;
    report.text("MovieLens-100k from " + path + ", the protocol of datasets/next_item.h. Behaviours: every rating, its action the "
                "rating's type (1-2, 3, 4, 5), its category the movie's first genre; logs of the last " + n(lo.max_len) + " ratings. "
                "Training: the log before each of a user's last " + n(lo.cuts) + " training items, that item against " + n(lo.negatives) +
                " unrated ones; d = " + n(o.sizes.space) + ", K = " + n(o.sizes.spaces) + "; Adam lr " + num("%g", o.lr) + ", " +
                n(o.epochs) + " epochs; " + n(o.worlds) + " seeds; seed " + std::to_string(o.seed) + ".");
    report.table(next_item_table({kModelNames[0], kModelNames[1], kModelNames[2], kModelNames[3], "popularity"}, r.real[0].size(),
                                 [&](size_t m, size_t s) { return r.real[m][s]; }),
                 "Test item of " + n(r.real[kNumModels][0].users) + " users: among 100 popularity-drawn negatives, then (full) "
                 "among every unseen item; mean over " + n(o.worlds) + " seeds");
    report.text("One data set: the seeds differ only in initialisation and batch order, so no verdicts.");
}

int main(int argc, char** argv) {
    return guarded_main("ch52_atrank", [&] {
        Options o;
        Flags flags("ch52_atrank", "ATRank vs mean pooling, a GRU and candidate attention on synthetic heterogeneous behaviour "
                                   "logs (Zhou et al., AAAI 2018), judged over paired worlds, or on MovieLens-100k (--data).");
        flags.on_quick([&] { o = quick_options(); });
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("histories", &o.world.train_histories, "training users per world", at_least(11));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("batch", &o.batch, "users per mini-batch (each with 6 candidates)", at_least(1));
        flags.add("spaces", &o.sizes.spaces, "K, ATRank's latent semantic spaces", at_least(1));
        flags.add("noise", &o.world.label_noise, "probability that a label is flipped", between(0.0, 0.49));
        std::string data;
        RealLogs real;   // --data: 3 epochs and 3 seeds unless set
        add_movielens_flag(flags, &data, [&](const datasets::MovieLens100k& ml) {
            o.epochs = flags.given("epochs") ? o.epochs : 3, o.worlds = flags.given("worlds") ? o.worlds : 3;
            real = movielens_logs(ml, RealLogOptions{});
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        Report report(flags);
        report.heading("Chapter 52: ATRank, attention over heterogeneous behaviours");
        const Results r = run_experiment(o, data.empty() ? nullptr : &real);
        data.empty() ? print_results(report, o, r) : print_real(report, o, r, data);
        Claims claims = judge(o, r);
        claims.quick = flags.quick, claims.one_dataset = !data.empty();   // the quick run is too short for verdicts; --data: one data set
        claims.print(report);
        report.finish(r.seconds);
        return 0;
    });
}

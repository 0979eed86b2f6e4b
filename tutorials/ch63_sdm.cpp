// Chapter 63: SDM (Lv et al., CIKM 2019) as a lab: the gate against add, concat and the short-term vector alone, on
// ordered sessions with favourite shops stale for drifters (main; the control has none), or MovieLens-100k (--data).
#include <chrono>
#include <string>

#include "tutorials/ch63_sdm.h"
#include "tutorials/common/claims.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch63;

static Table hit_table(const Options& o, const Results& r) {
    auto mean = [](const std::vector<WorldRun>& runs, const char* fmt, auto f) { return num(fmt, mean_over(runs, f)); };
    Table t("hit_rate", {"model", "main HR@" + std::to_string(o.K), "main, loyal users", "main, drifters", "control HR@" + std::to_string(o.K)});
    for (int m = 0; m < kNumModels; ++m)
        t.add({kModels[m].name, mean(r.main, "%.4f", [m](const WorldRun& x) { return x.hit[m]; }),
               mean(r.main, "%.4f", [m](const WorldRun& x) { return x.hit_loyal[m]; }),
               mean(r.main, "%.4f", [m](const WorldRun& x) { return x.hit_drifter[m]; }), mean(r.control, "%.4f", [m](const WorldRun& x) { return x.hit[m]; })});
    t.add({"oracle (true next-item probabilities)", mean(r.main, "%.4f", [](const WorldRun& x) { return x.oracle; }), "", "",
           mean(r.control, "%.4f", [](const WorldRun& x) { return x.oracle; })});
    t.add({"gated model's mean G (1 = session only)", "", mean(r.main, "%.3f", [](const WorldRun& x) { return x.gate_loyal; }),
           mean(r.main, "%.3f", [](const WorldRun& x) { return x.gate_drifter; }), mean(r.control, "%.3f", [](const WorldRun& x) { return x.gate_loyal; })});
    return t;
}

// --data: sessions by a time gap, their lengths at three gaps, then the fusions on MovieLens-100k.
static void real_main(Report& report, const Options& o, const datasets::MovieLens100k& ml, const std::string& path, int64_t gap) {
    const std::vector<std::vector<datasets::TimedItem>> h = datasets::user_histories(ml.ratings.rows, ml.ratings.num_users);
    const datasets::NextItemSplit s = datasets::next_item_split(datasets::item_sequences(h), int(ml.movies.size()));
    const datasets::SessionWorld w = datasets::movielens_sessions(ml, s, gap, 10, 50);
    Table lengths("session_lengths", {"gap", "sessions", "mean length", "median", "90th percentile", "one rating only"});
    for (int64_t g : {int64_t(600), gap, int64_t(86400)}) {
        const datasets::SessionLengths n = datasets::session_lengths(h, g);
        lengths.add({std::to_string(g) + " s", std::to_string(n.sessions), num("%.1f", n.mean), std::to_string(n.median), std::to_string(n.p90), num("%.3f", n.single)});
    }
    report.text("MovieLens-100k from " + path + ": " + std::to_string(s.users.size()) + " users, " + std::to_string(w.category.size()) +
                " items (category: first genre, shop: release decade; profile: gender x age band), the protocol of book/05_datasets.md "
                "(100 popularity negatives drawn once); a new session after " + std::to_string(gap) + " s without a rating; short-term "
                "input at most 10 items, long-term 50; " + std::to_string(w.train.size()) + " training examples; d = " +
                std::to_string(o.field_dim) + ", " + std::to_string(o.epochs) + " epochs; " + std::to_string(o.worlds) + " seeds; seed " +
                std::to_string(o.seed) + ". One data set: the seeds differ only in initialisation and sampling order, so no verdicts.");
    report.table(lengths, "Session lengths (ratings) by the gap that cuts them, all users");
    const std::vector<RealRun> runs = run_real(o, w, s);
    using Q = datasets::NextItemQuality;
    Table t("movielens", {"model", "HR@10", "NDCG@10", "MRR", "HR@10 (all items)", "NDCG@10 (all items)", "MRR (all items)"});
    for (int m = 0; m <= kNumModels; ++m) {
        std::vector<std::string> row = {m < kNumModels ? kModels[m].name : "popularity"};
        for (double Q::*f : {&Q::hr, &Q::ndcg, &Q::mrr, &Q::hr_full, &Q::ndcg_full, &Q::mrr_full})
            row.push_back(num("%.4f", mean_over(runs, [&](const RealRun& x) { return x[size_t(m)].*f; })));
        t.add(row);
    }
    report.table(t, "Each user's last item, MovieLens-100k (mean over seeds)");
    judge_real(runs).print(report);
}

int main(int argc, char** argv) {
    return guarded_main("ch63_sdm", [&] {
        Options o;
        Flags flags("ch63_sdm", "SDM (Lv et al., CIKM 2019): short-term session encoder (LSTM, multi-head self-attention, user attention), "
                                "long-term side-information attention, gated fusion vs add, concat and short-term only, on ordered "
                                "sessions with planted shop preferences, or on MovieLens-100k cut into sessions (--data).");
        flags.add("epochs", &o.epochs, "passes over the training sessions", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("field-dim", &o.field_dim, "d, the embedding size of each item field (users are 3d)", between(1, 128));
        flags.add("heads", &o.heads, "self-attention heads (3d must be a multiple)", at_least(1));
        flags.add("negatives", &o.negatives, "sampled-softmax negatives per batch", at_least(1));
        flags.add("batch", &o.batch, "batch size", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("loyalty", &o.world.loyalty, "probability that an item is at a favourite shop", between(0.0, 1.0));
        flags.add("switch-prob", &o.world.switch_prob, "chance the category changes inside a session", between(0.0, 1.0));
        flags.add("train-users", &o.world.train_users, "training sessions (one next item each)", at_least(100));
        flags.add("test-users", &o.world.test_users, "test sessions", at_least(10));
        std::string data_path;
        long gap = 3600;   // seconds
        flags.add("data", &data_path, "MovieLens-100k folder (u.data, u.item, u.user): the headline on real data");
        flags.add("gap", &gap, "--data: a new session after this many seconds without a rating", at_least(0));
        flags.on_quick([&] { o = quick_options(); });
        datasets::MovieLens100k ml;   // loaded while the flags are checked: a bad file fails before any training
        flags.check([&] {
            if ((3 * o.field_dim) % o.heads != 0) throw FlagError("--heads must divide 3 x --field-dim");
            try {
                if (!data_path.empty()) ml = datasets::load_movielens_100k(data_path);
            } catch (const std::exception& e) {
                throw FlagError("--data " + data_path + ": " + e.what());
            }
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 63: SDM, sequential deep matching");
        const auto start = std::chrono::steady_clock::now();
        if (!data_path.empty()) {   // 3 seeds of 1 epoch unless typed: under 3 minutes on one core
            o.worlds = flags.given("worlds") ? o.worlds : 3, o.epochs = flags.given("epochs") ? o.epochs : 1;
            real_main(report, o, ml, data_path, gap);
        } else {
            const datasets::SessionOptions& w = o.world;
            report.text(std::to_string(w.items()) + " items (" + std::to_string(w.categories) + " categories of " +
                        std::to_string(w.items_per_category) + ", " + std::to_string(w.shops) + " shops); " +
                        std::to_string(w.favourite_shops) + " favourite shops per user, loyalty " + num("%g", w.loyalty) +
                        "; sessions of " + std::to_string(w.min_session) + " to " + std::to_string(w.max_session) +
                        " items, category switch probability " + num("%g", w.switch_prob) + "; " +
                        std::to_string(w.train_users) + " training and " + std::to_string(w.test_users) + " test users; d = " +
                        std::to_string(o.field_dim) + ", " + std::to_string(o.heads) + " heads, " + std::to_string(o.negatives) +
                        " sampled negatives, " + std::to_string(o.epochs) + " epochs, Adam " + num("%g", o.lr) + "; " +
                        std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed) + ".");
            report.text("What the main world builds in: half the user profiles are drifters whose long-term behaviours "
                        "show old favourite shops, so the long-term vector misleads for them and only the profile says "
                        "so; a gate that reads the profile can turn it down. The control world has no drifters.");
            const Results r = run_experiment(o);
            report.table(hit_table(o, r), "HitRate@" + std::to_string(o.K) + " over the whole catalogue, mean over worlds");
            Claims claims = judge(o, r);
            claims.quick = flags.quick;
            claims.print(report);
        }
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}

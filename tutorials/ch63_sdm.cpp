// Chapter 63: SDM (Lv et al., CIKM 2019) as a lab: the gate against add, concat and the short-term vector alone, on
// ordered sessions with favourite shops stale for drifters (main; the control has none), or MovieLens-100k (--data).
#include <chrono>
#include <string>

#include "tutorials/ch63_sdm.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/next_item_report.h"

using namespace minirec;
using namespace minirec::ch63;

template <class T> static std::string n(T x) { return std::to_string(x); }

static Table hit_table(const Options& o, const Results& r) {
    auto mean = [](const std::vector<WorldRun>& runs, const char* fmt, auto f) { return num(fmt, mean_over(runs, f)); };
    Table t("hit_rate", {"model", "main HR@" + n(o.K), "main, loyal users", "main, drifters", "control HR@" + n(o.K)});
    for (int m = 0; m < kNumModels; ++m)
        t.add({kNames[m], mean(r.main, "%.4f", [m](const WorldRun& x) { return x.hit[m].all; }),
               mean(r.main, "%.4f", [m](const WorldRun& x) { return x.hit[m].loyal; }),
               mean(r.main, "%.4f", [m](const WorldRun& x) { return x.hit[m].drifter; }), mean(r.control, "%.4f", [m](const WorldRun& x) { return x.hit[m].all; })});
    t.add({"oracle (true next-item probabilities)", mean(r.main, "%.4f", [](const WorldRun& x) { return x.oracle; }), "", "",
           mean(r.control, "%.4f", [](const WorldRun& x) { return x.oracle; })});
    t.add({"gated model's mean G (1 = session only)", "", mean(r.main, "%.3f", [](const WorldRun& x) { return x.gate_loyal; }),
           mean(r.main, "%.3f", [](const WorldRun& x) { return x.gate_drifter; }), mean(r.control, "%.3f", [](const WorldRun& x) { return x.gate_loyal; })});
    return t;
}

// --data: sessions by a time gap, their lengths at three gaps, then the fusions on MovieLens-100k.
static void real_main(Report& report, const Options& o, const datasets::MovieLens100k& ml, const std::string& path, int64_t gap) {
    const auto [h, s, w] = datasets::movielens_sessions(ml, gap, 10, 50);   // histories, split, sessions
    Table lengths("session_lengths", {"gap", "sessions", "mean length", "median", "90th percentile", "one rating only"});
    for (int64_t g : {int64_t(600), gap, int64_t(86400)}) {
        const datasets::SessionLengths l = datasets::session_lengths(h, g);
        lengths.add({n(g) + " s", n(l.sessions), num("%.1f", l.mean), n(l.median), n(l.p90), num("%.3f", l.single)});
    }
    report.text("MovieLens-100k from " + path + ": " + n(s.users.size()) + " users, " + n(w.category.size()) + " items (category: first "
                "genre, shop: release decade; profile: gender x age band), the protocol of book/05_datasets.md (100 popularity negatives "
                "drawn once); a new session after " + n(gap) + " s without a rating; short-term input at most 10 items, long-term 50; " +
                n(w.train.size()) + " training examples; d = " + n(o.field_dim) + ", " + n(o.epochs) + " epochs; " + n(o.worlds) +
                " seeds; seed " + n(o.seed) + ". One data set: the seeds differ only in initialisation and sampling order, so no verdicts.");
    report.table(lengths, "Session lengths (ratings) by the gap that cuts them, all users");
    const std::vector<RealRun> runs = run_real(o, w, s);
    report.table(next_item_table({std::begin(kNames), std::end(kNames)}, runs.size(), [&](size_t m, size_t r) { return runs[r][m]; },
                                 "movielens", "all items"), "Each user's last item, MovieLens-100k (mean over seeds)");
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
        datasets::MovieLens100k ml;   // loaded while the flags are checked: a bad file fails before any training
        flags.check([&] { if ((3 * o.field_dim) % o.heads != 0) throw FlagError("--heads must divide 3 x --field-dim"); });
        add_data_flag(flags, &data_path, "MovieLens-100k folder (u.data, u.item, u.user): the headline on real data",
                      [&](const std::string& p) { ml = datasets::load_movielens_100k(p); });
        flags.add("gap", &gap, "--data: a new session after this many seconds without a rating", at_least(0));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 63: SDM, sequential deep matching");
        const auto start = std::chrono::steady_clock::now();
        if (!data_path.empty()) {   // 3 seeds of 1 epoch unless typed: under 3 minutes on one core
            o.worlds = flags.given("worlds") ? o.worlds : 3, o.epochs = flags.given("epochs") ? o.epochs : 1;
            real_main(report, o, ml, data_path, gap);
        } else {
            report.text(datasets::describe(o.world) + "; d = " + n(o.field_dim) + ", " + n(o.heads) + " heads, " + n(o.negatives) +
                        " sampled negatives, " + n(o.epochs) + " epochs, Adam " + num("%g", o.lr) + "; " + n(o.worlds) +
                        " worlds per cell; seed " + n(o.seed) + ".");
            report.text("What the main world builds in: half the user profiles are drifters whose long-term behaviours "
                        "show old favourite shops, so the long-term vector misleads for them and only the profile says "
                        "so; a gate that reads the profile can turn it down. The control world has no drifters.");
            const Results r = run_experiment(o);
            report.table(hit_table(o, r), "HitRate@" + n(o.K) + " over the whole catalogue, mean over worlds");
            Claims claims = judge(o, r);
            claims.quick = flags.quick;
            claims.print(report);
        }
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}

// Chapter 63: SDM, sequential deep matching with gated fusion of short- and long-term interests
// (Lv et al., CIKM 2019), as a lab: ordered sessions, favourite shops that are stale for the
// drifters; the gate against add, concat and the short-term vector alone, in a main world and a
// control world without drifters. Markdown on stdout; CSV under --out.
#include <string>

#include "tutorials/ch63_sdm.h"
#include "tutorials/common/claims.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch63;

static Table hit_table(const Options& o, const Results& r) {
    const std::string k = std::to_string(o.K);
    Table t("hit_rate", {"model", "main HR@" + k, "main, loyal users", "main, drifters", "control HR@" + k});
    for (int m = 0; m < kNumModels; ++m)
        t.add({kModels[m].name, num("%.4f", mean_over(r.main, [m](const WorldRun& x) { return x.hit[m]; })),
               num("%.4f", mean_over(r.main, [m](const WorldRun& x) { return x.hit_loyal[m]; })),
               num("%.4f", mean_over(r.main, [m](const WorldRun& x) { return x.hit_drifter[m]; })),
               num("%.4f", mean_over(r.control, [m](const WorldRun& x) { return x.hit[m]; }))});
    t.add({"oracle (true next-item probabilities)", num("%.4f", mean_over(r.main, [](const WorldRun& x) { return x.oracle; })),
           "", "", num("%.4f", mean_over(r.control, [](const WorldRun& x) { return x.oracle; }))});
    t.add({"gated model's mean G (1 = session only)", "", num("%.3f", mean_over(r.main, [](const WorldRun& x) { return x.gate_loyal; })),
           num("%.3f", mean_over(r.main, [](const WorldRun& x) { return x.gate_drifter; })),
           num("%.3f", mean_over(r.control, [](const WorldRun& x) { return x.gate_loyal; }))});
    return t;
}

int main(int argc, char** argv) {
    return guarded_main("ch63_sdm", [&] {
        Options o;
        Flags flags("ch63_sdm", "SDM (Lv et al., CIKM 2019): short-term session encoder (LSTM, multi-head self-attention, "
                                "user attention), long-term side-information attention, gated fusion vs add, concat and "
                                "short-term only, on ordered sessions with planted shop preferences.");
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
        flags.on_quick([&] { o = quick_options(); });
        flags.check([&] {
            if ((3 * o.field_dim) % o.heads != 0) throw FlagError("--heads must divide 3 x --field-dim");
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 63: SDM, sequential deep matching");
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
        report.finish(r.seconds);
        return 0;
    });
}

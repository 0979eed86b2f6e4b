// Chapter 54: a GAN-built user simulator (UserSim) as a lab: three simulators of skip / click / buy
// learned from few logs, scored on held-out users and as training grounds for a policy scored in
// the true world; claims paired over worlds. Markdown on stdout, the same tables as CSV.
#include <string>
#include <vector>

#include "tutorials/ch54_usersim.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch54;

static void print_results(Report& report, const Options& o, const Results& r) {
    for (int c = 0; c < 2; ++c) {
        const std::vector<WorldResult>& v = c ? r.control : r.main;
        auto mean = [&](auto f) { return mean_over(v, f); };
        Table t(c ? "control" : "main", {"simulator", "held-out accuracy", "held-out logloss",
                                         "reward in the true world of the policy trained inside it"});
        for (int m = 0; m < kNumModels; ++m)
            t.add({kModelNames[m], num("%.4f", mean([&](const WorldResult& x) { return x.test[m].accuracy; })),
                   num("%.4f", mean([&](const WorldResult& x) { return x.test[m].logloss; })),
                   num("%.4f", mean([&](const WorldResult& x) { return x.reward[m]; }))});
        t.add({"oracle (true tastes); the best candidate", num("%.4f", mean([](const WorldResult& x) { return x.oracle.accuracy; })),
               num("%.4f", mean([](const WorldResult& x) { return x.oracle.logloss; })),
               num("%.4f", mean([](const WorldResult& x) { return x.best_reward; }))});
        t.add({"a random candidate", "—", "—", num("%.4f", mean([](const WorldResult& x) { return x.random_reward; }))});
        report.table(t, (c ? "Control world: " : "Main world: ") + num("%.0f training users", c ? o.control_users : o.world.train_users) +
                            num(", mean over %.0f worlds", o.worlds));
    }
}

int main(int argc, char** argv) {
    return guarded_main("ch54_usersim", [&] {
        Options o;
        Flags flags("ch54_usersim", "UserSim (Zhao et al. 2019): a GAN user simulator whose discriminator predicts "
                                    "skip/click/buy, against a supervised classifier, as a predictor and as a "
                                    "training ground for a policy, on simulated shoppers.");
        flags.on_quick([&] { o = quick_options(); });
        flags.add("epochs", &o.epochs, "passes over the training logs (the best validation epoch is kept)", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("users", &o.world.train_users, "training users in the main world (20 logged steps each)", at_least(1));
        flags.add("control-users", &o.control_users, "training users in the control world", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate (both D and G)", above(0.0));
        flags.add("gamma", &o.model.gamma, "discount of the generated item's feedback term", between(0.0, 1.0));
        flags.add("policy-steps", &o.policy_steps, "REINFORCE steps inside each simulator", at_least(1));
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 54: simulating users with a GAN (UserSim)");
        report.text(num("%.0f items, ", o.world.num_items) + num("state = last %.0f (item, feedback); ", o.world.history) +
                    num("gamma %g, ", o.model.gamma) + num("Adam lr %g, ", o.lr) + num("up to %.0f epochs (best ", o.epochs) +
                    num("validation logloss kept); policy: REINFORCE over %.0f candidates, ", o.candidates) +
                    num("%.0f steps, rewards skip 0, click 1, buy 2; seed ", o.policy_steps) + std::to_string(o.seed) + ".");
        report.text(num("What the main world builds in: few logs (%.0f training users of 20 steps), the regime where ", o.world.train_users) +
                    num("the paper says the generator's items help as extra data. The control world has %.0f.", o.control_users));
        const Results r = run_experiment(o);
        print_results(report, o, r);
        Claims claims = judge(o, r);
        claims.quick = flags.quick;   // the quick run is too short for verdicts
        claims.print(report);
        report.finish(r.seconds);
        return 0;
    });
}

// Chapter 53: DUPN, a universal user representation learned from several tasks, as a lab: multi-
// vs single-task DUPN transferred to a new task frozen (RT) or fine-tuned (FT), against DUPN on the
// new task alone (RS); claims paired over worlds. Markdown on stdout, the same tables as CSV.
#include <string>

#include "tutorials/ch53_dupn.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch53;

static void print_results(Report& report, const Options& o, const Results& r) {
    Table t("transfer", {"way to the new task", "main task: AUC", "control task: AUC"});
    auto mean_auc = [&](int task, int k) { return num("%.4f", mean_over(r.worlds, [&](const WorldResult& w) { return w.auc[task][k]; })); };
    for (int k = 0; k < kNumWays; ++k) t.add({kWayNames[k], mean_auc(0, k), mean_auc(1, k)});
    report.table(t, num("The new task on %.0f held-out new users", o.world.transfer_users / 2) + num(" (mean over %.0f worlds)", o.worlds));
    Table c("ctr", {"world", "CTR AUC multi-task", "CTR AUC single-task", num("multi-task, auxiliaries x %g", o.cause_weight),
                    "attention per buy step", "per click step"});
    for (size_t i = 0; i < r.worlds.size(); ++i) {
        const WorldResult& w = r.worlds[i];
        c.add({std::to_string(i + 1), num("%.4f", w.ctr_auc[0]), num("%.4f", w.ctr_auc[1]), num("%.4f", w.ctr_auc[2]),
               num("%.4f", w.weight[datasets::kBuy]), num("%.4f", w.weight[datasets::kClick])});
    }
    report.table(c, "The shared task (CTR on the new users' candidates) and the multi-task attention" +
                        num(" (uniform = %.4f)", 1.0 / o.world.length));
}

int main(int argc, char** argv) {
    return guarded_main("ch53_dupn", [&] {
        Options o;
        Flags flags("ch53_dupn", "DUPN (Ni et al., KDD 2018): a user representation learned from several tasks vs one "
                                 "task, transferred frozen or fine-tuned to a new task, on a synthetic shop.");
        flags.on_quick([&] { o = quick_options(); });
        flags.add("epochs", &o.epochs, "passes of DUPN over the source tasks' training rows", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds", at_least(1));
        flags.add("users", &o.world.users, "training users per world", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate on the source tasks", above(0.0));
        flags.add("hidden", &o.hidden, "H, LSTM state size", at_least(1));
        flags.add("aux-weight", &o.aux_weight, "weight of the auxiliary (price, shop) losses in the joint loss", at_least(0.0));
        flags.add("ft-steps", &o.ft_steps, "full-batch steps of fine-tuning (FT) and of RS", at_least(1));
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 53: DUPN, universal user representations from multiple tasks");
        report.text(num("%.0f training users", o.world.users) + num(" x %.0f CTR rows, ", o.world.ctr_rows_per_user) +
                    num("%.0f new users, ", o.world.transfer_users) + num("T = %.0f; ", o.world.length) + num("d = %.0f, ", o.dim) +
                    num("H = %.0f; ", o.hidden) + num("Adam lr %g, ", o.lr) + num("%.0f epochs; FT and RS ", o.epochs) +
                    num("%.0f full-batch steps; ", o.ft_steps) + num("%.0f worlds; seed ", o.worlds) + std::to_string(o.seed) + ".");
        report.text("What the main world builds in: the new task 1[z1 + z2 - z3 + noise > 0] rests on the traits "
                    "that the auxiliary tasks (price z2, shop z3) teach the multi-task model. The control task "
                    "1[z0 - z1 + noise > 0] rests only on the CTR task's traits, which both models are trained on.");
        const Results r = run_experiment(o);
        print_results(report, o, r);
        Claims claims = judge(o, r);
        claims.quick = flags.quick;   // the quick run is too short for verdicts
        claims.print(report);
        report.finish(r.seconds);
        return 0;
    });
}

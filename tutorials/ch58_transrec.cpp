// Chapter 58: TransRec, translation-based recommendation, as a lab. Sequences where each user's
// next item lies near (previous item + her own translation); TransRec against PopRec, BPR-MF,
// FMC and FPMC, leave-one-out, at three data sizes and in a control world without sequences;
// Table 4's comparisons judged over worlds. CSV and an SVG (AUC by data size) under --out.
#include <chrono>
#include <string>

#include "tutorials/ch58_transrec.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch58;

static int run_main(int argc, char** argv) {
    Options o;
    Flags flags("ch58_transrec", "TransRec vs PopRec, BPR-MF, FMC and FPMC on sequences with a planted "
                                 "translation structure (He, Kang & McAuley, RecSys 2017).");
    flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
    flags.add("worlds", &o.worlds, "independent worlds per cell (three data sizes and the control)", at_least(2));
    flags.add("items", &o.data.num_items, "number of items", at_least(60));
    flags.add("dim", &o.dim, "embedding size D of every model", at_least(1));
    flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
    flags.add("weight-decay", &o.weight_decay, "L2 penalty Omega on every parameter", at_least(0.0));
    flags.add("step", &o.data.step, "length of the planted user translations", between(0.0, 1.0));
    flags.add("width", &o.data.width, "kernel width of the planted next-item choice", above(0.0));
    flags.on_quick([&] { o = quick_options(); });
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    Report report(flags);
    report.heading("Chapter 58: TransRec, translation-based recommendation");
    report.text(std::to_string(o.data.num_items) + " items in a " + std::to_string(o.data.dim) +
                "-D unit ball, user translations of length " + num("%g", o.data.step) + ", kernel width " +
                num("%g", o.data.width) + ", sequences of " + std::to_string(o.data.min_length) + "-" +
                std::to_string(o.data.max_length) + " items; D = " + std::to_string(o.dim) + ", Adam lr " + num("%g", o.lr) +
                ", weight decay " + num("%g", o.weight_decay) + ", batch " + std::to_string(o.batch) + ", " +
                std::to_string(o.epochs) + " epochs; " + std::to_string(o.worlds) + " worlds per cell; seed " +
                std::to_string(o.seed));
    report.text("The main world builds in a translation: a user's next item lies near the previous item plus her own "
                "vector (restart probability 0.05); the control world draws every item from popularity (restart "
                "probability 1), so neither a sequence nor a translation is there to learn.");
    const auto start = std::chrono::steady_clock::now();
    const Results r = run_experiment(o);

    Table t("models", {"world", "model", "AUC", "sd", "Hit@10", "Hit@50"});
    for (int c = 0; c < kNumCells; ++c)
        for (int m = 0; m < kNumModels; ++m) {
            auto auc = [&](const Replicate& x) { return x.auc[m]; };
            t.add({kCells[c].world, kModelNames[m], num("%.4f", mean_over(r.cell[c], auc)), num("%.4f", stdev_over(r.cell[c], auc)),
                   num("%.4f", mean_over(r.cell[c], [&](const Replicate& x) { return x.hit10[m]; })),
                   num("%.4f", mean_over(r.cell[c], [&](const Replicate& x) { return x.hit50[m]; }))});
        }
    report.table(t, "Held-out next item: AUC, Hit@10, Hit@50 (mean over worlds)");
    report.text("AUC and Hit@K: each user's held-out last item against the " + std::to_string(o.data.num_items) +
                " items minus those she touched in training (the paper's protocol).");

    LineChart chart{"Test AUC by data size (mean over worlds)", "users", "AUC", {}, false, 560, 360};
    for (int m = kBprMf; m < kTrained; ++m) {
        Series s{kModelNames[m], {}, {}};
        for (int c = 0; c < 3; ++c)
            s.x.push_back(kCells[c].users), s.y.push_back(mean_over(r.cell[c], [&](const Replicate& x) { return x.auc[m]; }));
        chart.series.push_back(s);
    }
    report.chart(chart, "auc_by_users");

    judge(o, r).print(report);
    report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch58_transrec", [&] { return run_main(argc, argv); });
}

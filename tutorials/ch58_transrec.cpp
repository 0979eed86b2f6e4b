// Chapter 58: TransRec as a lab (the experiment is in ch58_transrec.h): the models table at three data
// sizes and in the control world, or on MovieLens-100k (--data); Table 4's comparisons judged. CSV, SVG under --out.
#include <chrono>
#include <string>

#include "tutorials/ch58_transrec.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch58;

// --data: the headline on MovieLens-100k (run_real), mean over seeds, with the claims kit's intervals.
static int real_main(Report& report, const Options& o, const datasets::NextItemSplit& s, const std::string& path) {
    report.text("MovieLens-100k from " + path + ": " + std::to_string(s.users.size()) + " users, " + std::to_string(s.num_items) +
                " items, the protocol of book/05_datasets.md (" + std::to_string(o.negatives) + " popularity negatives drawn once); D = " +
                std::to_string(o.dim) + ", Adam lr " + num("%g", o.lr) + ", weight decay " + num("%g", o.weight_decay) + ", batch " +
                std::to_string(o.batch) + ", " + std::to_string(o.epochs) + " epochs; " + std::to_string(o.worlds) + " seeds; seed " +
                std::to_string(o.seed));
    const auto start = std::chrono::steady_clock::now();
    const std::vector<RealRun> runs = run_real(o, s);
    using Q = datasets::NextItemQuality;
    Table t("movielens", {"model", "HR@10", "NDCG@10", "MRR", "HR@10 (all items)", "NDCG@10 (all items)", "MRR (all items)"});
    for (int m = 0; m < kTrained; ++m) {
        std::vector<std::string> row = {kModelNames[m]};
        for (double Q::*f : {&Q::hr, &Q::ndcg, &Q::mrr, &Q::hr_full, &Q::ndcg_full, &Q::mrr_full})
            row.push_back(num("%.4f", mean_over(runs, [&](const RealRun& x) { return x[size_t(m)].*f; })));
        t.add(row);
    }
    report.table(t, "Each user's last item, MovieLens-100k (mean over seeds; PopRec is popularity in training histories)");
    report.text("One data set: the seeds differ only in initialisation and sampling order, so no verdicts.");
    judge_real(o, runs).print(report);
    report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
}

static int run_main(int argc, char** argv) {
    Options o;
    Flags flags("ch58_transrec", "TransRec vs PopRec, BPR-MF, FMC and FPMC on sequences with a planted "
                                 "translation structure (He, Kang & McAuley, RecSys 2017), or on MovieLens-100k.");
    flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
    flags.add("worlds", &o.worlds, "independent worlds per cell (three data sizes and the control)", at_least(2));
    flags.add("items", &o.data.num_items, "number of items", at_least(60));
    flags.add("dim", &o.dim, "embedding size D of every model", at_least(1));
    flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
    flags.add("weight-decay", &o.weight_decay, "L2 penalty Omega on every parameter", at_least(0.0));
    flags.add("step", &o.data.step, "length of the planted user translations", between(0.0, 1.0));
    flags.add("width", &o.data.width, "kernel width of the planted next-item choice", above(0.0));
    std::string data_path;
    datasets::NextItemSplit split;   // loaded while the flags are checked: a bad file fails before any training
    add_data_flag(flags, &data_path, "MovieLens-100k folder (u.data, u.item, u.user): the headline on real data",
                  [&](const std::string& p) { split = datasets::movielens_next_item(p); });
    flags.on_quick([&] { o = quick_options(); });
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    Report report(flags);
    report.heading("Chapter 58: TransRec, translation-based recommendation");
    if (!data_path.empty() && !flags.given("worlds")) o.worlds = 3;   // --data: 3 seeds fit 3 minutes on one core
    if (!data_path.empty()) return real_main(report, o, split, data_path);
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
            auto auc = [&](const Replicate& x) { return x[size_t(m)].auc; };
            t.add({kCells[c].world, kModelNames[m], num("%.4f", mean_over(r.cell[c], auc)), num("%.4f", stdev_over(r.cell[c], auc)),
                   num("%.4f", mean_over(r.cell[c], [&](const Replicate& x) { return x[size_t(m)].hit10; })),
                   num("%.4f", mean_over(r.cell[c], [&](const Replicate& x) { return x[size_t(m)].hit50; }))});
        }
    report.table(t, "Held-out next item: AUC, Hit@10, Hit@50 (mean over worlds)");
    report.text("AUC and Hit@K: each user's held-out last item against the " + std::to_string(o.data.num_items) +
                " items minus those she touched in training (the paper's protocol).");

    LineChart chart{"Test AUC by data size (mean over worlds)", "users", "AUC", {}, false, 560, 360};
    for (int m = kBprMf; m < kTrained; ++m) {
        Series s{kModelNames[m], {}, {}};
        for (int c = 0; c < 3; ++c)
            s.x.push_back(kCells[c].users), s.y.push_back(mean_over(r.cell[c], [&](const Replicate& x) { return x[size_t(m)].auc; }));
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

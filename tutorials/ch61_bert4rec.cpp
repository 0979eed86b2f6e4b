// Chapter 61: BERT4Rec as a lab: the Cloze task against the same network trained left to right, the
// last position only, and popularity, at several budgets, in synthetic main and control (no order)
// worlds or on MovieLens-100k (--data). Markdown on stdout; CSV under --out.
#include <chrono>
#include <string>

#include "tutorials/ch61_bert4rec.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/next_item_report.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch61;
using std::to_string;

// The next-item table; on real data (r.real) with the full-ranking MRR and without the oracle.
static Table results_table(const Options& o, const Results& r, const std::vector<WorldRun>& runs, const std::string& name) {
    const std::string k = std::to_string(o.k);
    std::vector<double Scores::*> last_cols = {&Scores::hr, &Scores::mrr, &Scores::hr_full, &Scores::ndcg_full};
    std::vector<std::string> cols = {"model"};
    for (int e : o.budgets()) cols.push_back("NDCG@" + k + ", " + std::to_string(e) + " ep");
    cols.insert(cols.end(), {"HR@" + k, "MRR", "HR@" + k + " (all items)", "NDCG@" + k + " (all items)"});
    if (r.real) cols.push_back("MRR (all items)"), last_cols.push_back(&Scores::mrr_full);
    cols.push_back("train CPU s");
    Table t(name, cols);
    const size_t last = o.budgets().size() - 1;
    for (int m = 0; m < kNumModels; ++m) {
        if (runs.empty() || runs[0].at[m].empty()) continue;
        auto mean = [&](size_t i, double Scores::*f) { return num("%.4f", mean_over(runs, [&](const WorldRun& x) { return x.at[m][i].*f; })); };
        std::vector<std::string> row = {kModelNames[m]};
        for (size_t i = 0; i <= last; ++i) row.push_back(m != kOracle || i == last ? mean(i, &Scores::ndcg) : "");   // the oracle: no budgets
        for (double Scores::*f : last_cols) row.push_back(mean(last, f));
        row.push_back(m < kNumTrained ? num("%.1f", mean_over(runs, [&](const WorldRun& x) { return x.train_seconds[m]; })) : "");
        t.add(row);
    }
    return t;
}

int main(int argc, char** argv) {
    return guarded_main("ch61_bert4rec", [&] {
        Flags flags("ch61_bert4rec", "BERT4Rec (Cloze, bidirectional) vs a left-to-right transformer vs popularity "
                                     "on synthetic item sequences (Sun et al., CIKM 2019), at several budgets, in a "
                                     "main world and a control world where order carries no signal, or on MovieLens-100k.");
        Options o;
        flags.add("epochs", &o.epochs, "the largest budget E; every model is scored after E/4, E/2 and E epochs", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("users", &o.data.num_users, "users per world", at_least(10));
        flags.add("order", &o.data.order_strength, "main world: probability that the next item follows the planted successor graph",
                  between(0.0, 1.0));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("dim", &o.model.dim, "hidden size d (a multiple of the 2 heads)", at_least(2));
        flags.add("max-len", &o.model.max_len, "T, the most recent items the model reads", at_least(2));
        flags.add("mask-prob", &o.mask_prob, "rho, the Cloze masking proportion", between(0.01, 1.0));
        flags.add("dropout", &o.model.dropout, "dropout rate", between(0.0, 0.9));
        flags.check([&] {
            if (o.model.dim % o.model.heads != 0) throw FlagError("--dim must be a multiple of the 2 heads");
        });
        std::string data_path;
        datasets::NextItemSplit split;   // loaded while the flags are checked: a bad file fails before any training
        add_movielens_flag(flags, &data_path, [&](const datasets::MovieLens100k& ml) { split = datasets::next_item_split(ml); });
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        const bool real = !data_path.empty();
        if (real)   // one core, under 3 minutes: the headline's two models and popularity; 3 seeds of 12 epochs at lr 3e-3 unless typed
            o.train[kCausal] = o.train[kLastOnly] = o.control = false, o.worlds = flags.given("worlds") ? o.worlds : 3,
            o.epochs = flags.given("epochs") ? o.epochs : 12, o.lr = flags.given("lr") ? o.lr : 3e-3;

        Report report(flags);
        report.heading("Chapter 61: BERT4Rec");
        std::string budgets;
        for (int e : o.budgets()) budgets += (budgets.empty() ? "" : ", ") + to_string(e);
        report.text((real ? describe(split, data_path) : describe(o.data)) + "T = " + to_string(o.model.max_len) + ", d = " +
                    to_string(o.model.dim) + ", " + to_string(o.model.layers) + " layers, " + to_string(o.model.heads) + " heads, dropout " +
                    num("%.2f", o.model.dropout) + "; rho = " + num("%.2f", o.mask_prob) + "; Adam lr " + num("%g", o.lr) + ", batch " +
                    to_string(o.batch) + "; budgets " + budgets + " epochs; " + to_string(o.worlds) + (real ? " seeds" : " worlds per cell") +
                    "; seed " + to_string(o.seed) + ".");
        if (!real)
            report.text("What the main world builds in: with probability " + num("%.2f", o.data.order_strength) +
                        " the next item is a planted successor of the previous one, so order carries signal; in the control "
                        "world (order strength " + num("%.2f", o.control_order) +
                        ") items in a session are drawn independently from its interest, so order carries none.");
        const auto start = std::chrono::steady_clock::now();
        const Results r = run_experiment(o, real ? &split : nullptr);
        const std::string marked = "; sampled negatives unless marked; HR and MRR at the largest budget)";
        report.table(results_table(o, r, r.main, real ? "movielens" : "main"), real ? "Next-item ranking of each user's last item, "
                     "MovieLens-100k (mean over seeds" + marked : "Next-item ranking, main world (mean over worlds" + marked);
        if (real) report.text("One data set: the seeds differ only in initialisation and training order, so no verdicts.");
        else report.table(results_table(o, r, r.control, "control"), "Next-item ranking, control world (mean over worlds)");
        Claims claims = judge(o, r);
        claims.quick = flags.quick, claims.one_dataset = real;
        claims.print(report);
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}

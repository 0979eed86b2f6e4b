// The first demo: a small click-through-rate model trained by minirec, end to end in seconds.
// Synthetic click logs (datasets/synthetic_ctr.h) whose true click probability we know; a model
// of embeddings + MLP (each categorical field its own embedding, the multi-hot tags averaged, the
// numeric field as is, all concatenated into a ReLU MLP); Adam on the logistic loss with a
// progress bar; then train and test AUC and logloss, next to the oracle's (the true
// probabilities: the best any model can do on these rows). The experiment is in demo_ctr.h, the model
// in models/demo_ctr.h; this file holds the flags, the printed table and the --out files.
#include <cstdio>
#include <string>
#include <vector>

#include "core/kernels.h"
#include "tutorials/common/plot.h"
#include "tutorials/demo_ctr.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;

// Under --out: the table as CSV, the loss curve as CSV and SVG (with the oracle's train logloss
// as the floor the curve cannot go below on average).
static void write_outputs(const demo::Options& o, const demo::Results& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger metrics(dir + "/metrics.csv", {"rows", "model_auc", "oracle_auc", "model_logloss", "oracle_logloss"});
    for (const auto& [name, m] : {std::pair<const char*, demo::Metrics>{"train", rep.train}, {"test", rep.test}})
        metrics.row({name, num("%.6f", m.auc), num("%.6f", m.oracle_auc), num("%.6f", m.logloss), num("%.6f", m.oracle_logloss)});
    CsvLogger curve(dir + "/loss_curve.csv", {"step", "mean_train_loss"});
    Series model{"model", {}, {}}, oracle{"oracle", {}, {}};
    for (size_t i = 0; i < rep.curve_step.size(); ++i) {
        curve.row(std::vector<double>{double(rep.curve_step[i]), rep.curve_loss[i]});
        model.x.push_back(double(rep.curve_step[i]));
        model.y.push_back(rep.curve_loss[i]);
    }
    if (!rep.curve_step.empty()) {
        oracle.x = {model.x.front(), model.x.back()};
        oracle.y = {rep.train.oracle_logloss, rep.train.oracle_logloss};
    }
    const LineChart chart{"Training logloss, mean of every " + std::to_string(o.log_every) + " steps (oracle: train rows)",
                          "step", "logloss", {model, oracle}, false};
    write_text_file(dir + "/loss_curve.svg", line_chart_svg(chart));
}

int main(int argc, char** argv) {
    return guarded_main("demo_ctr", [&] {
        Flags flags("demo_ctr", "A small CTR model (embeddings + MLP) on synthetic click logs with known "
                                "click probabilities: train/test AUC and logloss against the oracle's.");
        demo::Options o;
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("rows", &o.rows, "synthetic rows, the first 80% train and the rest test", at_least(100));
        flags.add("dim", &o.dim, "embedding size D", at_least(1));
        flags.add("hidden", &o.hidden, "first MLP layer (the second has half)", at_least(2));
        flags.add("batch", &o.batch, "mini-batch size", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        // --quick: fewer rows and epochs (the test's configuration); what the user typed still wins.
        flags.on_quick([&] {
            const demo::Options q = demo::quick_options(0);
            o.rows = q.rows, o.epochs = q.epochs;
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        const demo::Data data = demo::make_data(o);
        std::printf("# minirec demo: CTR with embeddings + MLP\n\n%d rows (%zu train, %zu test), %d fields + tags + "
                    "1 numeric, click rate %.3f, kernels %s, seed %llu\n\n",
                    o.rows, data.train_rows.size(), data.test_rows.size(), data.logs.num_fields, data.logs.base_rate,
                    kernels::active().name, static_cast<unsigned long long>(o.seed));
        std::fflush(stdout);   // the header before the progress bar, also when stdout is a pipe
        const demo::Results rep = demo::run(o, data);

        // Train and test metrics of the model and of the oracle (the true click probabilities).
        std::printf("| rows | model AUC | oracle AUC | model logloss | oracle logloss |\n|---|---:|---:|---:|---:|\n");
        for (const auto& [name, m] : {std::pair<const char*, demo::Metrics>{"train", rep.train}, {"test", rep.test}})
            std::printf("| %s | %.4f | %.4f | %.4f | %.4f |\n", name, m.auc, m.oracle_auc, m.logloss, m.oracle_logloss);
        std::printf("\nThe oracle knows the planted click probabilities; the gap to it is what the model "
                    "has not learned (the planted interactions are what later chapters' models target).\n");
        if (!flags.out.empty()) {
            write_outputs(o, rep, flags.out);
            std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
        }
        return 0;
    });
}

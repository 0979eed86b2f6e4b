// Chapter 64: AutoInt (Song et al., CIKM 2019), as a lab. Trains LR, FM and AutoInt with 1..L
// interacting layers on synthetic CTR data in independent worlds, with a boosted 3-field term, the
// generator's default one and none (the control); prints the results, the layer-1 attention and the
// claims table, and writes CSV and an SVG attention heatmap under --out. The experiment: ch64_autoint.h.
#include <string>
#include <vector>

#include "tutorials/ch64_autoint.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch64;

// Mean (and worst world) test AUC and logloss per setting and model, with the oracle's.
static void print_results(Report& report, const Options& o, const Results& rep) {
    Table t("results", {"setting", "model", "params", "mean AUC", "worst world", "mean logloss", "AUC gap to oracle"});
    for (size_t s = 0; s < rep.data.size(); ++s) {
        const std::vector<DataReport>& ws = rep.data[s];
        const double oracle = mean_over(ws, [](const DataReport& w) { return w.oracle_auc; });
        t.add({setting_name(o.three_way_stds[s]), "oracle (true p)", "", num("%.4f", oracle), "",
               num("%.4f", mean_over(ws, [](const DataReport& w) { return w.oracle_logloss; })), ""});
        for (size_t m = 0; m < ws[0].results.size(); ++m) {
            const double a = mean_over(ws, [&](const DataReport& w) { return w.results[m].auc; });
            t.add({setting_name(o.three_way_stds[s]), ws[0].results[m].model, std::to_string(ws[0].results[m].parameters),
                   num("%.4f", a), num("%.4f", min_over(ws, [&](const DataReport& w) { return w.results[m].auc; })),
                   num("%.4f", mean_over(ws, [&](const DataReport& w) { return w.results[m].logloss; })), num("%.4f", oracle - a)});
        }
    }
    report.table(t, "Test AUC and logloss (mean over " + std::to_string(o.worlds) + " worlds per setting)");
}

// Layer-1 attention of the deepest AutoInt in world 1 of the first setting, averaged over heads and
// test rows: row m is field m's attention over all fields; '*' marks a planted interacting pair.
static void print_attention(Report& report, const Options& o, const Results& rep) {
    const DataReport& d = rep.data[0][0];
    const size_t M = rep.fields.size();
    std::vector<std::string> cols = {"m \\ k"};
    for (const std::string& f : rep.fields) cols.push_back(f);
    Table t("attention", cols);
    Heatmap map{"AutoInt layer-1 attention (" + setting_name(o.three_way_stds[0]) + ", world 1)", "key field k",
                "query field m", int(M), int(M), {}, rep.fields, rep.fields, 32};
    for (size_t m = 0; m < M; ++m) {
        std::vector<std::string> row = {rep.fields[m]};
        for (size_t k = 0; k < M; ++k) {
            bool planted = false;
            for (const auto& q : d.planted) planted |= (size_t(q.first) == std::min(m, k) && size_t(q.second) == std::max(m, k));
            row.push_back(num("%.3f", d.attention[m * M + k]) + (planted ? "*" : ""));
            map.values.push_back(float(d.attention[m * M + k]));
        }
        t.add(row);
    }
    report.table(t, "Layer-1 attention alpha_{m,k} (" + setting_name(o.three_way_stds[0]) +
                        ", world 1; mean over heads and test rows; * = planted pair)");
    report.heatmap(map, "attention");   // the paper's kind of attention map, on our data
}

int main(int argc, char** argv) {
    return guarded_main("ch64_autoint", [&] {
        Options o;
        int max_layers = 2;
        Flags flags("ch64_autoint", "LR vs FM vs AutoInt (Song et al., CIKM 2019) on synthetic CTR data with "
                                    "planted pairwise and 3-field interactions; AutoInt's attention heatmap.");
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("layers", &max_layers, "AutoInt depths 1..L", between(1, 6));
        flags.add("worlds", &o.worlds, "independent worlds per setting", at_least(2));
        flags.add("rows", &o.train_rows, "training rows per world", at_least(1000));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("batch", &o.batch, "batch size", at_least(1));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        o.layers.clear();
        for (int l = 1; l <= max_layers; ++l) o.layers.push_back(l);
        Report report(flags);
        report.heading("Chapter 64: AutoInt, feature interactions by self-attention");
        report.text(std::to_string(o.train_rows) + " training and " + std::to_string(o.test_rows) + " test rows per world, " +
                    std::to_string(o.worlds) + " worlds per setting, 8 fields (6 one-hot, tags, numeric); AutoInt D = " +
                    std::to_string(o.autoint.dim) + ", H = " + std::to_string(o.autoint.heads) + ", d' = " +
                    std::to_string(o.autoint.head_dim) + ", L in 1.." + std::to_string(o.layers.back()) + "; FM k = " +
                    std::to_string(o.fm_dim) + "; batch " + std::to_string(o.batch) + ", Adam lr " + num("%g", o.lr) + ", " +
                    std::to_string(o.epochs) + " epochs, seed " + std::to_string(o.seed) + ". The main world builds in a "
                    "boosted 3-field term (std 2.5) that FM's pairs cannot express; the generator's default term (std 0.8) "
                    "is reported beside it, and the control world has pairs only.");
        const Results rep = run_experiment(o);
        print_results(report, o, rep);
        print_attention(report, o, rep);
        Claims claims = judge(o, rep);
        claims.quick = flags.quick;
        claims.print(report);
        report.finish(rep.seconds);
        return 0;
    });
}

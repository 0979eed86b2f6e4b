// Chapter 64: AutoInt (Song et al., CIKM 2019), as a lab: the experiment of ch64_autoint.h, its results, the layer-1
// attention (table and SVG heatmap) and the claims; with --data, the models on a Criteo log.
#include <chrono>
#include <numeric>

#include "datasets/ctr_logs.h"
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
        const double oracle = mean_over(ws, [](const DataReport& w) { return w.oracle.auc; });
        const std::string setting = rep.real ? "real data" : setting_name(o.three_way_stds[s]);
        if (!rep.real) t.add({setting, "oracle (true p)", "", num("%.4f", oracle), "",
                              num("%.4f", mean_over(ws, [](const DataReport& w) { return w.oracle.logloss; })), ""});
        for (size_t m = 0; m < ws[0].results.size(); ++m) {
            const double a = mean_over(ws, [&](const DataReport& w) { return w.results[m].auc; });
            t.add({setting, ws[0].results[m].model, std::to_string(ws[0].results[m].parameters),
                   num("%.4f", a), num("%.4f", min_over(ws, [&](const DataReport& w) { return w.results[m].auc; })),
                   num("%.4f", mean_over(ws, [&](const DataReport& w) { return w.results[m].logloss; })), rep.real ? "" : num("%.4f", oracle - a)});
        }
    }
    report.table(t, "Test AUC and logloss (mean over " + std::to_string(o.worlds) + (rep.real ? " initialisations)" : " worlds per setting)"));
}

// Layer-1 attention of the deepest AutoInt in world 1 of the first setting, averaged over heads and
// test rows: row m is field m's attention over all fields; '*' marks a planted interacting pair.
static void print_attention(Report& report, const Options& o, const Results& rep) {
    const DataReport& d = rep.data[0][0];
    const int M = int(rep.fields.size());
    std::vector<std::string> cols = {"m \\ k"};
    cols.insert(cols.end(), rep.fields.begin(), rep.fields.end());
    Table t("attention", cols);
    for (int m = 0; m < M; ++m) {
        std::vector<std::string> row = {rep.fields[size_t(m)]};
        for (int k = 0; k < M; ++k) row.push_back(num("%.3f", d.attention[size_t(m * M + k)]) + (datasets::is_planted(d.planted.pairs, m, k) ? "*" : ""));
        t.add(row);
    }
    Heatmap map{"AutoInt layer-1 attention (" + setting_name(o.three_way_stds[0]) + ", world 1)", "key field k",
                "query field m", M, M, {d.attention.begin(), d.attention.end()}, rep.fields, rep.fields, 32};
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
        std::string data_path;
        datasets::HashedCriteo real;   // read while the flags are checked: a bad file stops the run before any training
        add_data_flag(flags, &data_path, "a Criteo log (TSV as published, or CSV with a label,I1..C26 header) instead of the synthetic worlds",
                      [&](const std::string& p) { real = datasets::load_criteo_hashed(p, {flags.given("rows") ? o.train_rows : 0}); });
        flags.add("rows", &o.train_rows, "training rows per world; with --data, read at most this many rows", at_least(1000));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("batch", &o.batch, "batch size", at_least(1));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        o.layers.resize(size_t(max_layers)), std::iota(o.layers.begin(), o.layers.end(), 1);   // depths 1..L
        const auto start = std::chrono::steady_clock::now();
        Report report(flags);
        report.heading("Chapter 64: AutoInt, feature interactions by self-attention");
        const std::string models = "AutoInt D = " + std::to_string(o.autoint.dim) + ", H = " + std::to_string(o.autoint.heads) + ", d' = " +
                                   std::to_string(o.autoint.head_dim) + ", L in 1.." + std::to_string(o.layers.back()) + "; FM k = " + std::to_string(o.fm_dim) +
                                   "; batch " + std::to_string(o.batch) + ", Adam lr " + num("%g", o.lr) + ", " + std::to_string(o.epochs) + " epochs, seed " + std::to_string(o.seed) + ".";
        if (data_path.empty())
            report.text(std::to_string(o.train_rows) + " training and " + std::to_string(o.test_rows) + " test rows per world, " +
                        std::to_string(o.worlds) + " worlds per setting, 8 fields (6 one-hot, tags, numeric); " + models +
                        " The main world builds in a boosted 3-field term (std 2.5) that FM's pairs cannot express; the "
                        "generator's default term (std 0.8) is reported beside it, and the control world has pairs only.");
        else
            report.text(data_path + ": " + std::to_string(real.n) + " rows in file order, the first " + std::to_string(real.n_train) + " to train, the last " +
                        std::to_string(real.n - real.n_valid) + " to test; 39 one-hot fields of " + std::to_string(real.buckets) + " hashed ids (datasets/ctr_logs.h; "
                        "tags and numeric slots empty); " + models + " " + std::to_string(o.worlds) + " initialisations of one data set: no verdicts.");
        const Results rep = data_path.empty() ? run_experiment(o) : run_real(o, datasets::to_ctr_data(real), int(real.n_train), int(real.n_valid));
        print_results(report, o, rep);
        if (!rep.real) print_attention(report, o, rep);
        Claims claims = judge(o, rep);
        claims.quick = flags.quick, claims.one_dataset = rep.real, claims.print(report);   // --data: n counts initialisations, not worlds
        report.finish(seconds_since(start));
        return 0;
    });
}

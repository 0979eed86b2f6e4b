// Chapter 64: AutoInt (Song et al., CIKM 2019), as a lab. Trains LR, FM and AutoInt with 1..L
// interacting layers on synthetic CTR data with and without a planted 3-field term, prints Markdown
// tables and writes CSV and an SVG attention heatmap under --out. The experiment is in ch64_autoint.h.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch64_autoint.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch64;

static void print_results(const Results& rep) {
    std::printf("## Test AUC and logloss\n\n| data | model | params | AUC | logloss | AUC gap to oracle | seconds |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (const DataReport& d : rep.data) {
        std::printf("| %s | oracle (true p) | | %.4f | %.4f | | |\n", d.name.c_str(), d.oracle_auc, d.oracle_logloss);
        for (const Result& r : d.results)
            std::printf("| %s | %s | %ld | %.4f | %.4f | %.4f | %.1f |\n", d.name.c_str(), r.model.c_str(),
                        r.parameters, r.auc, r.logloss, d.oracle_auc - r.auc, r.seconds);
    }
    std::printf("\n");
}

// Layer-1 attention of the deepest AutoInt, averaged over heads and test rows: row m is field m's
// attention over all fields; '*' marks a planted interacting pair.
static void print_attention(const Results& rep) {
    const DataReport& d = rep.data[0];
    const size_t M = rep.fields.size();
    std::printf("## Layer-1 attention alpha_{m,k} (%s; mean over heads and test rows; * = planted pair)\n\n| m \\ k |",
                d.name.c_str());
    for (const std::string& f : rep.fields) std::printf(" %s |", f.c_str());
    std::printf("\n|---|");
    for (size_t k = 0; k < M; ++k) std::printf("---|");
    std::printf("\n");
    for (size_t m = 0; m < M; ++m) {
        std::printf("| %s |", rep.fields[m].c_str());
        for (size_t k = 0; k < M; ++k) {
            bool planted = false;
            for (const auto& q : d.planted)
                planted |= (size_t(q.first) == std::min(m, k) && size_t(q.second) == std::max(m, k));
            std::printf(" %.3f%s |", d.attention[m * M + k], planted ? "*" : "");
        }
        std::printf("\n");
    }
    std::printf("\n");
}

static const Result& find(const DataReport& d, const std::string& name) {
    for (const Result& r : d.results)
        if (r.model == name) return r;
    return d.results.front();
}

// The claims compare AutoInt with L = 2 (the second depth trained) against FM and against L = 1.
static void print_claims(const ExperimentOptions& o, const Results& rep) {
    const std::string deep = "AutoInt L=" + std::to_string(o.layers.size() > 1 ? o.layers[1] : o.layers[0]);
    const std::string shallow = "AutoInt L=" + std::to_string(o.layers.front());
    const DataReport& tri = rep.data[0];
    const Result &lr = find(tri, "LR"), &fm = find(tri, "FM"), &ai = find(tri, deep), &ai1 = find(tri, shallow);
    std::printf("## The paper's claims in this run (%s vs FM and %s)\n\n| claim | holds | numbers |\n|---|---|---|\n",
                deep.c_str(), shallow.c_str());
    print_claim("AutoInt beats FM in AUC (3-field term planted)", ai.auc > fm.auc,
                num("%.4f", ai.auc) + " vs " + num("%.4f", fm.auc));
    print_claim("AutoInt beats FM in logloss (3-field term planted)", ai.logloss < fm.logloss,
                num("%.4f", ai.logloss) + " vs " + num("%.4f", fm.logloss));
    print_claim("AutoInt beats LR in AUC (3-field term planted)", ai.auc > lr.auc,
                num("%.4f", ai.auc) + " vs " + num("%.4f", lr.auc));
    print_claim("a second interacting layer helps (3-field term planted, AUC)", ai.auc > ai1.auc,
                num("%.4f", ai.auc) + " vs " + num("%.4f", ai1.auc));
    if (rep.data.size() > 1) {
        const DataReport& pairs = rep.data[1];
        const double gain_tri = ai.auc - ai1.auc, gain_pairs = find(pairs, deep).auc - find(pairs, shallow).auc;
        print_claim("the second layer helps more with the 3-field term than without", gain_tri > gain_pairs,
                    num("%+.4f", gain_tri) + " vs " + num("%+.4f", gain_pairs));
        const double lead_tri = ai.auc - fm.auc, lead_pairs = find(pairs, deep).auc - find(pairs, "FM").auc;
        print_claim("AutoInt's AUC lead over FM is larger with the 3-field term", lead_tri > lead_pairs,
                    num("%+.4f", lead_tri) + " vs " + num("%+.4f", lead_pairs));
    }
    print_claim("layer-1 attention is higher between planted pairs than unrelated ones",
                tri.planted_attention > tri.other_attention,
                num("%.4f", tri.planted_attention) + " vs " + num("%.4f", tri.other_attention));
    std::printf("\n");
}

static void write_outputs(const Results& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger results(dir + "/results.csv", {"data", "model", "layers", "params", "auc", "logloss", "seconds",
                                             "oracle_auc", "oracle_logloss"});
    for (const DataReport& d : rep.data)
        for (const Result& r : d.results)
            results.row({d.name, r.model, std::to_string(r.layers), std::to_string(r.parameters), num("%.6f", r.auc),
                         num("%.6f", r.logloss), num("%.2f", r.seconds), num("%.6f", d.oracle_auc),
                         num("%.6f", d.oracle_logloss)});
    const int M = int(rep.fields.size());
    CsvLogger att(dir + "/attention.csv", {"data", "query_field", "key_field", "alpha", "planted"});
    for (const DataReport& d : rep.data)
        for (int m = 0; m < M; ++m)
            for (int k = 0; k < M; ++k) {
                bool planted = false;
                for (const auto& q : d.planted) planted |= (q.first == std::min(m, k) && q.second == std::max(m, k));
                att.row({d.name, rep.fields[size_t(m)], rep.fields[size_t(k)],
                         num("%.6f", d.attention[size_t(m) * M + k]), planted ? "1" : "0"});
            }
    // The paper's figure 5 on our data: the field-by-field attention of layer 1.
    const DataReport& d = rep.data[0];
    Heatmap map{"AutoInt layer-1 attention (" + d.name + ")", "key field k", "query field m", M, M, {}, {}, {}, 32};
    for (double a : d.attention) map.values.push_back(float(a));
    map.row_labels = map.col_labels = rep.fields;
    write_text_file(dir + "/attention.svg", heatmap_svg(map));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch64_autoint", "LR vs FM vs AutoInt (Song et al., CIKM 2019) on synthetic CTR data with "
                                "planted pairwise and 3-field interactions; AutoInt's attention heatmap.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    ExperimentOptions o;
    int max_layers = 0;
    epochs = o.epochs;   // --epochs: 2 unless told otherwise (--quick too)
    flags.add("layers", &max_layers, "AutoInt depths 1..L; 0: the configuration's own (3; --quick 2)");
    flags.add("rows", &o.train_rows, "training rows (--quick: 30000)");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("batch", &o.batch, "batch size");
    flags.add("three-way-std", &o.three_way_std, "std of the planted 3-field term in the logit");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    if (flags.quick) {   // fewer rows, L = 1 and 2, no pairs-only data; the other flags still apply
        const ExperimentOptions q = quick_options(flags.seed);
        o.train_rows = q.train_rows, o.test_rows = q.test_rows, o.layers = q.layers, o.pairs_only = q.pairs_only;
    }
    o.epochs = epochs;
    if (max_layers > 0) {
        o.layers.clear();
        for (int l = 1; l <= max_layers; ++l) o.layers.push_back(l);
    }

    std::printf("# Chapter 64: AutoInt, feature interactions by self-attention\n\n");
    std::printf("%d training and %d test rows, 8 fields (6 one-hot, tags, numeric); AutoInt D = %d, H = %d, d' = %d, "
                "L in 1..%d; FM k = %d; 3-field term std %.2f; batch %d, Adam lr %g, %d epochs, seed %llu\n\n",
                o.train_rows, o.test_rows, o.autoint.dim, o.autoint.heads, o.autoint.head_dim, o.layers.back(), o.fm_dim,
                o.three_way_std, o.batch, o.lr, o.epochs, static_cast<unsigned long long>(o.seed));
    const Results rep = run_experiment(o);
    print_results(rep);
    print_attention(rep);
    print_claims(o, rep);
    if (!flags.out.empty()) {
        write_outputs(rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch64_autoint", [&] { return run_main(argc, argv); });
}

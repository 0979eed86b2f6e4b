// Chapter 59: FM -> FFM -> DeepFFM -> FAT-DeepFFM, as a lab. A click log with field-pair-specific
// interactions and a few fields of pure noise; the four models trained on the same batches; their
// held-out AUC and logloss, and the field attention CENet learns.
// Markdown tables on stdout; CSV and SVG (attention heatmap, test-logloss curves) under --out.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch59_fat_deepffm.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch59;

static void print_models(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Test AUC and logloss (mean over %d worlds): after the last epoch, and early-stopped "
                "(the epoch with the best validation logloss)\n\n", o.worlds);
    std::printf("| noise fields | model | AUC | min / max AUC | logloss | early-stopped AUC | logloss | epoch |\n"
                "|---|---|---|---|---|---|---|---|\n");
    for (const Level& l : rep.levels) {
        for (int m = 0; m < kNumModels; ++m) {
            auto a = [m](const WorldReport& w) { return w.models[m].auc; };
            std::printf("| %d | %s | %.4f | %.4f / %.4f | %.4f | %.4f | %.4f | %.1f |\n", l.noise_fields, kModelNames[m],
                        l.auc(m), l.min(a), l.max(a), l.logloss(m), l.es_auc(m), l.es_logloss(m),
                        l.mean([m](const WorldReport& w) { return double(w.models[m].best_epoch); }));
        }
        std::printf("| %d | oracle (true probability) | %.4f | | %.4f | | | |\n", l.noise_fields,
                    l.mean([](const WorldReport& w) { return w.oracle_auc; }),
                    l.mean([](const WorldReport& w) { return w.oracle_logloss; }));
    }
    std::printf("\nBase click rate %.3f. Every model has D = %d; DeepFFM and FAT-DeepFFM feed the %s "
                "to a DNN with hidden sizes",
                rep.levels[0].mean([](const WorldReport& w) { return w.base_rate; }), o.dim,
                o.interaction == Interaction::hadamard ? "Hadamard products (eq. 5)" : "inner products (eq. 4)");
    for (int h : o.hidden) std::printf(" %d", h);
    std::printf(".\n\n## What each step of the ladder adds: AUC difference, mean over worlds (smallest per world)\n\n");
    std::printf("| noise fields | FFM - FM | DeepFFM - FFM | FAT-DeepFFM - DeepFFM | same, early-stopped |\n"
                "|---|---|---|---|---|\n");
    for (const Level& l : rep.levels)
        std::printf("| %d | %+.4f (%+.4f) | %+.4f (%+.4f) | %+.4f (%+.4f) | %+.4f (%+.4f) |\n", l.noise_fields,
                    l.auc(kFFM) - l.auc(kFM), l.min_gap(kFFM, kFM), l.auc(kDeepFFM) - l.auc(kFFM),
                    l.min_gap(kDeepFFM, kFFM), l.auc(kFAT) - l.auc(kDeepFFM), l.min_gap(kFAT, kDeepFFM),
                    l.es_auc(kFAT) - l.es_auc(kDeepFFM), l.min_es_gap(kFAT, kDeepFFM));
    std::printf("\n");
}

static void print_attention(const Level& l) {
    const int F = l.fields;
    std::printf("## FAT-DeepFFM's field attention with %d noise fields: mean s_{i,f} over test rows (row i: the "
                "feature's field, column f: the field its vector is for), mean over worlds; * marks noise fields\n\n| i \\ f |",
                l.noise_fields);
    for (int f = 0; f < F; ++f) std::printf(" %d%s |", f + 1, f < l.signal_fields ? "" : "*");
    std::printf("\n|---|");
    for (int f = 0; f < F; ++f) std::printf("---|");
    std::printf("\n");
    for (int i = 0; i < F; ++i) {
        std::printf("| %d%s |", i + 1, i < l.signal_fields ? "" : "*");
        for (int f = 0; f < F; ++f)
            std::printf(" %.2f |", l.mean([&](const WorldReport& w) { return w.attention[size_t(i) * F + f]; }));
        std::printf("\n");
    }
    std::printf("\n| vectors v_{i,f}, i != f | mean s | min over worlds | max over worlds |\n|---|---|---|---|\n");
    auto line = [&](const char* what, double WorldReport::*field) {
        auto g = [field](const WorldReport& w) { return w.*field; };
        std::printf("| %s | %.3f | %.3f | %.3f |\n", what, l.mean(g), l.min(g), l.max(g));
    };
    line("signal field i, signal field f", &WorldReport::attention_signal);
    line("signal field i, noise field f", &WorldReport::attention_to_noise);
    line("noise field i, any field f", &WorldReport::attention_noise);
    std::printf("\nThe weights start near 1 (CENet's b2 starts at 1).\n\n");
}

static void print_claims(const StudyReport& rep) {
    auto claim = [&](const Level& l, int a, int b, bool early) {
        const double ga = early ? l.es_auc(a) : l.auc(a), gb = early ? l.es_auc(b) : l.auc(b);
        const double gap = early ? l.min_es_gap(a, b) : l.min_gap(a, b);
        print_claim(std::string(kModelNames[a]) + " beats " + kModelNames[b] + " in AUC in every world (" +
                        std::to_string(l.noise_fields) + " noise fields" + (early ? ", early-stopped" : "") + ")",
                    gap > 0, num("%.4f", ga) + " vs " + num("%.4f", gb) + ", smallest gap " + num("%+.4f", gap));
    };
    std::printf("## The chapter's claims in this run\n\n| claim | holds | numbers |\n|---|---|---|\n");
    for (const Level& l : rep.levels) claim(l, kFFM, kFM, false);
    for (const Level& l : rep.levels) claim(l, kDeepFFM, kFFM, false);
    for (const Level& l : rep.levels) claim(l, kFAT, kDeepFFM, false);
    for (const Level& l : rep.levels) claim(l, kFAT, kDeepFFM, true);
    const Level& l = rep.levels.back();
    if (l.noise_fields > 0) {
        const double gap = l.min([](const WorldReport& w) { return w.attention_signal - w.attention_noise; });
        print_claim("CENet weights noise fields' vectors below signal vectors, in every world (" +
                        std::to_string(l.noise_fields) + " noise fields)",
                    gap > 0,
                    num("%.3f", l.mean([](const WorldReport& w) { return w.attention_noise; })) + " vs " +
                        num("%.3f", l.mean([](const WorldReport& w) { return w.attention_signal; })) + ", smallest gap " +
                        num("%+.3f", gap));
    }
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"noise_fields", "world", "model", "auc", "logloss", "es_auc", "es_logloss", "best_epoch"});
    CsvLogger att(dir + "/attention.csv", {"noise_fields", "world", "i", "f", "mean_s"});
    for (const Level& l : rep.levels)
        for (size_t r = 0; r < l.worlds.size(); ++r) {
            const WorldReport& w = l.worlds[r];
            const std::string nf = std::to_string(l.noise_fields), wr = std::to_string(r);
            for (int m = 0; m < kNumModels; ++m)
                runs.row({nf, wr, kModelNames[m], num("%.6g", w.models[m].auc), num("%.6g", w.models[m].logloss),
                          num("%.6g", w.models[m].es_auc), num("%.6g", w.models[m].es_logloss), std::to_string(w.models[m].best_epoch)});
            runs.row({nf, wr, "oracle", num("%.6g", w.oracle_auc), num("%.6g", w.oracle_logloss), "", "", ""});
            for (int i = 0; i < l.fields; ++i)
                for (int f = 0; f < l.fields; ++f)
                    att.row({nf, wr, std::to_string(i + 1), std::to_string(f + 1), num("%.6g", w.attention[size_t(i) * l.fields + f])});
        }
    const Level& l = rep.levels.back();
    Heatmap map;
    map.title = "FAT-DeepFFM attention, mean s_{i,f} (* = noise field)";
    map.x_label = "f: the field the vector is for";
    map.y_label = "i: the feature's field";
    map.rows = map.cols = l.fields;
    map.cell = 36;
    for (int i = 0; i < l.fields; ++i) {
        const std::string label = std::to_string(i + 1) + (i < l.signal_fields ? "" : "*");
        map.row_labels.push_back(label);
        map.col_labels.push_back(label);
        for (int f = 0; f < l.fields; ++f)
            map.values.push_back(float(l.mean([&](const WorldReport& w) { return w.attention[size_t(i) * l.fields + f]; })));
    }
    write_text_file(dir + "/attention.svg", heatmap_svg(map));
    LineChart chart{"Test logloss per epoch (" + std::to_string(l.noise_fields) + " noise fields)",
                    "epoch", "test logloss", {}, false, 560, 360};
    for (int m = 0; m < kNumModels; ++m) {
        Series s{kModelNames[m], {}, {}};
        for (int e = 0; e < o.epochs; ++e) {
            s.x.push_back(e + 1);
            s.y.push_back(l.mean([&](const WorldReport& w) { return w.models[m].test_logloss_by_epoch[size_t(e)]; }));
        }
        chart.series.push_back(s);
    }
    write_text_file(dir + "/test_logloss.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch59_fat_deepffm", "FM vs FFM vs DeepFFM vs FAT-DeepFFM (Zhang et al. 2019) on a synthetic click log "
                                    "with field-pair-specific interactions and noise fields.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int worlds = 0, rows = 0;
    epochs = o.epochs;
    flags.add("worlds", &worlds, "independent worlds; 0: the configuration's own (3; --quick 1)");
    flags.add("rows", &rows, "rows per world; 0: the configuration's own (60000, 70% train, 10% validation, 20% test; --quick 30000)");
    std::string noise = "0,4,8";
    flags.add("noise-fields", &noise, "comma-separated numbers of noise fields to try, one level each (the last gets the attention table; --quick: 0,8)");
    flags.add("signal-fields", &o.world.signal_fields, "fields whose pairs interact");
    flags.add("values", &o.world.values, "values per field");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("dim", &o.dim, "embedding size D of every model");
    flags.add("reduction", &o.reduction, "CENet's reduction ratio r");
    bool inner = false;
    flags.add("inner", &inner, "DeepFFM and FAT-DeepFFM use inner products (eq. 4) instead of Hadamard products (eq. 5)");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    if (inner) o.interaction = Interaction::inner;
    o.epochs = epochs;
    if (flags.quick) o.worlds = 1, o.world.n = 30000;
    if (flags.quick && noise == "0,4,8") noise = "0,8";
    if (worlds > 0) o.worlds = worlds;
    if (rows > 0) o.world.n = rows;
    o.noise_levels.clear();
    for (size_t pos = 0; pos <= noise.size();) {
        const size_t comma = std::min(noise.find(',', pos), noise.size());
        const std::string item = noise.substr(pos, comma - pos);
        char* end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 0 || v > 64) {
            std::fprintf(stderr, "ch59_fat_deepffm: --noise-fields wants numbers 0..64 separated by commas, got '%s'\n", noise.c_str());
            return 2;
        }
        o.noise_levels.push_back(int(v));
        pos = comma + 1;
    }
    if (o.epochs < 1 || o.dim < 1 || o.reduction < 1 || !(o.lr > 0)) {
        std::fprintf(stderr, "ch59_fat_deepffm: --epochs, --dim and --reduction must be >= 1 and --lr > 0\n");
        return 2;
    }

    std::printf("# Chapter 59: FAT-DeepFFM, field attention over field-aware embeddings\n\n");
    std::printf("%d rows per world (70%% train, 10%% validation, 20%% test), %d signal fields (every pair interacts through its own latent "
                "tables, k = %d) + %s noise fields, %d values each; D = %d; Adam lr %g, batch %d, %d epochs; "
                "CENet r = %d; %d worlds; seed %llu\n\n",
                o.world.n, o.world.signal_fields, o.world.latent, noise.c_str(), o.world.values, o.dim, o.lr,
                o.batch, o.epochs, o.reduction, o.worlds, static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ch59_fat_deepffm: %s\n", e.what());
        return 1;
    }
    print_models(o, rep);
    print_attention(rep.levels.back());
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch59_fat_deepffm", [&] { return run_main(argc, argv); });
}

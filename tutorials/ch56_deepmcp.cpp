// Chapter 56: DeepMCP as a lab. A click log from planted user and ad vectors with a long tail of
// rarely shown ads; the prediction subnet trained alone and with the matching and/or correlation
// subnets; test AUC and logloss of the prediction subnet (the only part that serves).
// Markdown tables on stdout; CSV and an SVG of the per-world leads under --out.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch56_deepmcp.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch56;

static void print_models(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Test AUC and logloss of the prediction subnet (mean over %d worlds)\n\n", o.worlds);
    std::printf("| model | AUC | min AUC | logloss | AUC, rare ads | AUC, frequent ads | matching score's own AUC |\n"
                "|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < kNumModels; ++m)
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %s |\n", kModelNames[m],
                    rep.mean([m](const WorldReport& w) { return w.models[m].auc; }),
                    rep.min([m](const WorldReport& w) { return w.models[m].auc; }),
                    rep.mean([m](const WorldReport& w) { return w.models[m].logloss; }),
                    rep.mean([m](const WorldReport& w) { return w.models[m].tail_auc; }),
                    rep.mean([m](const WorldReport& w) { return w.models[m].head_auc; }),
                    m == kDeepMP || m == kDeepMCP ? num("%.4f", rep.mean([m](const WorldReport& w) { return w.models[m].match_auc; })).c_str() : "");
    std::printf("| oracle (true probability) | %.4f | | %.4f | %.4f | %.4f | |\n\n",
                rep.mean([](const WorldReport& w) { return w.oracle.auc; }),
                rep.mean([](const WorldReport& w) { return w.oracle.logloss; }),
                rep.mean([](const WorldReport& w) { return w.oracle.tail_auc; }),
                rep.mean([](const WorldReport& w) { return w.oracle.head_auc; }));
    std::printf("Rare ads: fewer than %d training impressions; their rows are %.1f%% of the test rows. "
                "Skip-gram pairs (window %d): %.0f per world on average. Ad-embedding similarity (the Pearson "
                "correlation, over random ad pairs, between the cosine of their learned ad-id embeddings and of "
                "their planted vectors):",
                o.tail_count, 100.0 * rep.mean([](const WorldReport& w) { return w.tail_share; }), o.window,
                rep.mean([](const WorldReport& w) { return double(w.pairs); }));
    for (int m = 0; m < kNumModels; ++m)
        std::printf(" %s %.3f%s", kModelNames[m], rep.mean([m](const WorldReport& w) { return w.models[m].similarity; }),
                    m + 1 < kNumModels ? ";" : ".\n\n");
}

static void print_claims(const StudyReport& rep) {
    std::printf("## Lead over the DNN alone, per world (AUC)\n\n| model | mean lead | smallest lead | "
                "mean lead on rare ads | smallest on rare ads |\n|---|---|---|---|---|\n");
    for (int m = kDeepMP; m < kNumModels; ++m) {
        auto all = [m](const WorldReport& w) { return w.models[m].auc - w.models[kDNN].auc; };
        auto tail = [m](const WorldReport& w) { return w.models[m].tail_auc - w.models[kDNN].tail_auc; };
        std::printf("| %s | %+.4f | %+.4f | %+.4f | %+.4f |\n", kModelNames[m], rep.mean(all), rep.min(all),
                    rep.mean(tail), rep.min(tail));
    }
    auto vs = [&](int a, int b) { return rep.min([a, b](const WorldReport& w) { return w.models[a].auc - w.models[b].auc; }); };
    std::printf("\nDeepMCP minus DeepMP, smallest per world: %+.4f; DeepMCP minus DeepCP: %+.4f.\n\n", vs(kDeepMCP, kDeepMP),
                vs(kDeepMCP, kDeepCP));
}

static void write_outputs(const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"world", "model", "auc", "logloss", "rare_ad_auc", "frequent_ad_auc", "similarity", "match_auc"});
    for (size_t r = 0; r < rep.worlds.size(); ++r) {
        const WorldReport& w = rep.worlds[r];
        for (int m = 0; m <= kNumModels; ++m) {
            const Result& x = m < kNumModels ? w.models[m] : w.oracle;
            runs.row({std::to_string(r), m < kNumModels ? kModelNames[m] : "oracle", num("%.6g", x.auc),
                      num("%.6g", x.logloss), num("%.6g", x.tail_auc), num("%.6g", x.head_auc), num("%.6g", x.similarity),
                      num("%.6g", x.match_auc)});
        }
    }
    // One line per helper model: its AUC lead over the DNN in each world, overall and on rare ads.
    LineChart chart{"AUC lead over the DNN alone, per world", "world", "AUC(model) - AUC(DNN)", {}, false, 680, 380};
    for (int m = kDeepMP; m < kNumModels; ++m)
        for (bool rare : {false, true}) {
            const char* const short_names[] = {"DNN", "DeepMP", "DeepCP", "DeepMCP"};
            Series s{std::string(short_names[m]) + (rare ? ", rare ads" : ""), {}, {}};
            for (size_t r = 0; r < rep.worlds.size(); ++r) {
                const WorldReport& w = rep.worlds[r];
                s.x.push_back(double(r + 1));
                s.y.push_back(rare ? w.models[m].tail_auc - w.models[kDNN].tail_auc : w.models[m].auc - w.models[kDNN].auc);
            }
            chart.series.push_back(s);
        }
    write_text_file(dir + "/leads.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch56_deepmcp", "DeepMCP (Ouyang et al. 2019): the prediction subnet alone and with the matching "
                                "and correlation subnets, on a synthetic ad log with a long tail of rare ads.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int worlds = 0, rows = 0;
    epochs = o.epochs;
    flags.add("worlds", &worlds, "independent worlds; 0: the configuration's own (5; --quick 1)");
    flags.add("rows", &rows, "impressions per world, 80% train; 0: the configuration's own (60000; --quick 30000)");
    flags.add("alpha", &o.alpha, "weight of the matching loss L_m");
    flags.add("beta", &o.beta, "weight of the correlation loss L_c");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("ads", &o.world.ads, "number of ads");
    flags.add("zipf", &o.world.zipf, "ad popularity exponent");
    flags.add("history", &o.world.history, "older impressions per logged row whose clicks only the correlation subnet sees");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.worlds = 1, o.world.n = 30000;
    if (worlds > 0) o.worlds = worlds;
    if (rows > 0) o.world.n = rows;
    if (o.epochs < 1 || !(o.lr > 0) || !(o.alpha >= 0) || !(o.beta >= 0)) {
        std::fprintf(stderr, "ch56_deepmcp: --epochs must be >= 1, --lr > 0, --alpha and --beta >= 0\n");
        return 2;
    }
    std::printf("# Chapter 56: DeepMCP, matching and correlation subnets that help CTR prediction\n\n");
    std::printf("%d impressions per world (80%% train), %d users in %d segments, %d ads in %d categories, Zipf %.2f "
                "popularity, latent size %d; D = %d; Adam lr %g, batch %d, %d epochs; alpha %g, beta %g, window %d, "
                "%d negatives; %d worlds; seed %llu\n\n",
                o.world.n, o.world.users, o.world.segments, o.world.ads, o.world.categories, o.world.zipf,
                o.world.latent, o.model.dim, o.lr, o.batch, o.epochs, o.alpha, o.beta, o.window, o.negatives, o.worlds,
                static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ch56_deepmcp: %s\n", e.what());
        return 1;
    }
    print_models(o, rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch56_deepmcp", [&] { return run_main(argc, argv); });
}

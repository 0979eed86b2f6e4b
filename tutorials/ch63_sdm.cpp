// Chapter 63: SDM, sequential deep matching with gated fusion of short- and long-term interests
// (Lv et al., CIKM 2019), as a lab. Sessions whose next item depends on the session's category and
// on the user's favourite shops, stale for the "drifters"; five fusions compared by HitRate@K.
// Prints Markdown tables; writes CSV and SVG under --out. The experiment is in ch63_sdm.h.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch63_sdm.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch63;

static void print_report(const StudyOptions& o, const Results& rep) {
    const WorldOptions& w = o.world;
    std::printf("## Next-item retrieval over the whole catalogue\n\n");
    std::printf("%d items (%d categories of %d, %d shops); %d favourite shops per user, loyalty %g; sessions of "
                "%d to %d items, %d to %d past behaviours; %d training and %d test users (%d loyal, %d drifters). "
                "d = %d per field (D = %d), %d heads, %d sampled negatives, %d epochs, batch %d, Adam %g.\n\n",
                w.items(), w.categories, w.items_per_category, w.shops, w.favourite_shops, w.loyalty, w.min_session,
                w.max_session, w.min_past, w.max_past, w.train_users, w.test_users, rep.loyal_users, rep.drifter_users,
                o.field_dim, 3 * o.field_dim, o.heads, o.negatives, o.epochs, o.batch, o.lr);
    std::printf("| model |");
    for (int k : o.Ks) std::printf(" HR@%d | HR@%d loyal | HR@%d drifters |", k, k, k);
    std::printf(" seconds |\n|---|");
    for (size_t k = 0; k < o.Ks.size(); ++k) std::printf("---|---|---|");
    std::printf("---|\n");
    for (const Result& r : rep.results) {
        std::printf("| %s |", r.spec.name.c_str());
        for (size_t k = 0; k < o.Ks.size(); ++k) std::printf(" %.4f | %.4f | %.4f |", r.hit[k], r.hit_loyal[k], r.hit_drifter[k]);
        std::printf(" %.1f |\n", r.seconds);
    }
    std::printf("| oracle (true next-item probabilities) |");
    for (size_t k = 0; k < o.Ks.size(); ++k) std::printf(" %.4f | %.4f | %.4f |", rep.oracle[k], rep.oracle_loyal[k], rep.oracle_drifter[k]);
    std::printf(" |\n\n");
    for (const Result& r : rep.results) {
        if (r.spec.fusion != Fusion::gated) continue;
        std::printf("### The gate G of %s: its mean over users and dimensions, per profile\n\n| profile | kind | mean G "
                    "(1 = short-term only) |\n|---|---|---|\n", r.spec.name.c_str());
        for (size_t p = 0; p < r.gate_by_profile.size(); ++p)
            std::printf("| %zu | %s | %.3f |\n", p, int(p) >= w.profiles / 2 ? "drifter" : "loyal", r.gate_by_profile[p]);
        std::printf("\n");
    }
}

static const char* short_name(Fusion f) {
    switch (f) {
        case Fusion::gated: return "gated";
        case Fusion::short_only: return "short only";
        case Fusion::long_only: return "long only";
        case Fusion::add: return "s + p";
        case Fusion::concat: return "W [s, p]";
    }
    return "";
}

static void write_outputs(const StudyOptions& o, const Results& rep, const std::string& dir) {
    ensure_dir(dir);
    std::vector<std::string> cols = {"model"};
    for (int k : o.Ks) {
        const std::string s = std::to_string(k);
        cols.insert(cols.end(), {"hr_at_" + s, "hr_at_" + s + "_loyal", "hr_at_" + s + "_drifter"});
    }
    cols.insert(cols.end(), {"final_loss", "seconds"});
    CsvLogger csv(dir + "/retrieval.csv", cols);
    for (const Result& r : rep.results) {
        std::vector<std::string> row = {r.spec.name};
        for (size_t k = 0; k < o.Ks.size(); ++k)
            row.insert(row.end(), {num("%.6g", r.hit[k]), num("%.6g", r.hit_loyal[k]), num("%.6g", r.hit_drifter[k])});
        row.insert(row.end(), {num("%.6g", r.final_loss), num("%.3g", r.seconds)});
        csv.row(row);
    }
    // HR@K of every model, loyal users and drifters side by side, relative to the oracle.
    Heatmap h;
    h.title = "HR@" + std::to_string(o.Ks.front()) + " / oracle";
    h.x_label = "users";
    h.y_label = "fusion";
    h.cols = 2;
    h.col_labels = {"loyal", "drifters"};
    for (const Result& r : rep.results) {
        h.values.push_back(float(r.hit_loyal.front() / rep.oracle_loyal.front()));
        h.values.push_back(float(r.hit_drifter.front() / rep.oracle_drifter.front()));
        h.row_labels.push_back(short_name(r.spec.fusion));
    }
    h.rows = int(rep.results.size());
    h.cell = 40;
    write_text_file(dir + "/hit_rate.svg", heatmap_svg(h));
    for (const Result& r : rep.results) {
        if (r.spec.fusion != Fusion::gated) continue;
        Heatmap g;
        g.title = "mean gate G per profile";
        g.x_label = "";
        g.y_label = "profile";
        g.rows = int(r.gate_by_profile.size());
        g.cols = 1;
        for (size_t p = 0; p < r.gate_by_profile.size(); ++p) {
            g.values.push_back(float(r.gate_by_profile[p]));
            g.row_labels.push_back(std::to_string(p) + (int(p) >= o.world.profiles / 2 ? " drifter" : " loyal"));
        }
        g.col_labels = {"G"};
        g.cell = 40;
        write_text_file(dir + "/gate.svg", heatmap_svg(g));
    }
}

static int run_main(int argc, char** argv) {
    Flags flags("ch63_sdm", "SDM (Lv et al., CIKM 2019): short-term session encoder (LSTM, multi-head self-attention, "
                            "user attention), long-term side-information attention, gated fusion vs short only, "
                            "long only, add and concat, on sessions with planted intents and shop preferences.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    epochs = o.epochs;
    flags.add("field-dim", &o.field_dim, "d, the embedding size of each item field (users are 3d)");
    flags.add("heads", &o.heads, "self-attention heads (3d must be a multiple)");
    flags.add("negatives", &o.negatives, "sampled-softmax negatives per batch");
    flags.add("batch", &o.batch, "batch size");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("loyalty", &o.world.loyalty, "probability that an item is at a favourite shop");
    flags.add("min-session", &o.world.min_session, "shortest current session");
    flags.add("max-session", &o.world.max_session, "longest current session");
    flags.add("train-users", &o.world.train_users, "training sessions (one next item each)");
    flags.add("test-users", &o.world.test_users, "test sessions");
    flags.parse_or_exit(argc, argv);
    o.world.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) apply_quick(o);
    if (o.field_dim < 1 || o.heads < 1 || (3 * o.field_dim) % o.heads != 0 || o.negatives < 1 || o.batch < 1 ||
        o.epochs < 1 || !(o.lr > 0)) {
        std::fprintf(stderr, "ch63_sdm: need --field-dim, --heads, --negatives, --batch, --epochs >= 1, --lr > 0, "
                             "and 3 x field-dim a multiple of --heads\n");
        return 2;
    }
    std::printf("# Chapter 63: SDM, sequential deep matching\n\nseed %llu%s\n\n",
                static_cast<unsigned long long>(flags.seed), flags.quick ? " (--quick)" : "");
    try {
        const Results rep = run_study(o);
        print_report(o, rep);
        std::fprintf(stderr, "total %.1f s\n", rep.seconds);
        if (!flags.out.empty()) {
            write_outputs(o, rep, flags.out);
            std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ch63_sdm: %s\n", e.what());
        return 1;
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch63_sdm", [&] { return run_main(argc, argv); });
}

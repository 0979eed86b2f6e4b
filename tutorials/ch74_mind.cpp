// Chapter 74: MIND, multi-interest retrieval with dynamic routing (Li et al., CIKM 2019), as a
// lab. Users mix several planted item clusters; a single-vector model (mean pooling) and MIND with
// one or several interests are trained with sampled softmax and scored by HitRate@N / Recall@N.
// Prints Markdown tables; writes CSV and SVG under --out. The experiment is in ch74_mind.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch74_mind.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch74;

static void print_report(const StudyOptions& o, const Results& rep) {
    const WorldOptions& w = o.world;
    std::printf("## Retrieval over the whole catalogue\n\n");
    std::printf("%d items in %d clusters of %d; users mix %d to %d clusters, histories of %d to %d items; "
                "%d training users (one next item each), %d test users (%d future items each). D = %d, "
                "ReLU layer %d, r = %d routing iterations, %d sampled negatives, %d epochs, batch %d, Adam %g.\n\n",
                w.items(), w.clusters, w.items_per_cluster, w.min_interests, w.max_interests, w.min_history,
                w.max_history, w.train_users, w.test_users, w.test_targets, o.dim, o.hidden, o.iterations,
                o.negatives, o.epochs, o.batch, o.lr);
    std::printf("| model |");
    for (int n : o.Ns) std::printf(" HR@%d | Recall@%d |", n, n);
    std::printf(" routing Rand index (untrained -> trained) | seconds |\n|---|");
    for (size_t n = 0; n < o.Ns.size(); ++n) std::printf("---|---|");
    std::printf("---|---|\n");
    for (const Result& r : rep.results) {
        std::printf("| %s |", r.spec.name.c_str());
        for (size_t n = 0; n < o.Ns.size(); ++n) std::printf(" %.4f | %.4f |", r.hit[n], r.recall[n]);
        if (std::isnan(r.rand_index)) std::printf(" - |");
        else std::printf(" %.3f -> %.3f |", r.rand_index_untrained, r.rand_index);
        std::printf(" %.1f |\n", r.seconds);
    }
    std::printf("| oracle (the user's clusters first) |");
    for (size_t n = 0; n < o.Ns.size(); ++n) std::printf(" | %.4f |", rep.oracle[n]);
    std::printf(" | |\n\n");

    const int N = o.Ns.back();
    std::printf("### Recall@%d by the number of planted interests m\n\n| model |", N);
    for (size_t mi = 0; mi < rep.users_by_m.size(); ++mi)
        std::printf(" m = %d (%d users) |", int(mi) + w.min_interests, rep.users_by_m[mi]);
    std::printf("\n|---|");
    for (size_t mi = 0; mi < rep.users_by_m.size(); ++mi) std::printf("---|");
    std::printf("\n");
    for (const Result& r : rep.results) {
        std::printf("| %s |", r.spec.name.c_str());
        for (const auto& by_n : r.recall_by_m) std::printf(" %.4f |", by_n.back());
        std::printf("\n");
    }
    std::printf("| oracle |");
    for (const auto& by_n : rep.oracle_by_m) std::printf(" %.4f |", by_n.back());
    std::printf("\n\n");
}

static void write_outputs(const StudyOptions& o, const Results& rep, const std::string& dir) {
    ensure_dir(dir);
    std::vector<std::string> cols = {"model"};
    for (int n : o.Ns) cols.push_back("hr_at_" + std::to_string(n)), cols.push_back("recall_at_" + std::to_string(n));
    cols.insert(cols.end(), {"rand_index_untrained", "rand_index", "final_loss", "seconds"});
    CsvLogger csv(dir + "/retrieval.csv", cols);
    for (const Result& r : rep.results) {
        std::vector<std::string> row = {r.spec.name};
        for (size_t n = 0; n < o.Ns.size(); ++n) row.push_back(num("%.6g", r.hit[n])), row.push_back(num("%.6g", r.recall[n]));
        row.insert(row.end(), {num("%.6g", r.rand_index_untrained), num("%.6g", r.rand_index), num("%.6g", r.final_loss),
                               num("%.3g", r.seconds)});
        csv.row(row);
    }
    CsvLogger by_m(dir + "/recall_by_interests.csv", {"model", "m", "N", "recall"});
    LineChart chart{"Recall@" + std::to_string(o.Ns.back()) + " vs the number of planted interests per user",
                    "planted interests m", "Recall@" + std::to_string(o.Ns.back()), {}, false, 820, 400};
    auto add_series = [&](const std::string& name, const std::vector<std::vector<double>>& rec) {
        Series s{name, {}, {}};
        for (size_t mi = 0; mi < rec.size(); ++mi) {
            const int m = int(mi) + o.world.min_interests;
            s.x.push_back(m), s.y.push_back(rec[mi].back());
            for (size_t n = 0; n < o.Ns.size(); ++n)
                by_m.row({name, std::to_string(m), std::to_string(o.Ns[n]), num("%.6g", rec[mi][n])});
        }
        chart.series.push_back(s);
    };
    for (const Result& r : rep.results) add_series(r.spec.name, r.recall_by_m);
    add_series("oracle", rep.oracle_by_m);
    write_text_file(dir + "/recall_by_interests.svg", line_chart_svg(chart));
    const Result* best = nullptr;           // the routing picture of the MIND whose routing is the
    for (const Result& r : rep.results)     // closest to the planted clusters (highest Rand index)
        if (!r.routing.empty() && (!best || r.rand_index > best->rand_index)) best = &r;
    if (best) {
        Heatmap h;
        h.title = "B2I routing w_ij";
        h.x_label = "capsule j";
        h.y_label = "behaviour i, by planted cluster";
        h.cols = best->spec.interests;
        h.rows = int(best->routing_rows.size());
        h.values = best->routing;
        h.row_labels = best->routing_rows;
        for (int k = 0; k < h.cols; ++k) h.col_labels.push_back(std::to_string(k + 1));
        h.cell = 14;
        write_text_file(dir + "/routing.svg", heatmap_svg(h));
        std::fprintf(stderr, "routing.svg shows %s\n", best->spec.name.c_str());
    }
}

static int run_main(int argc, char** argv) {
    Flags flags("ch74_mind", "MIND (Li et al., CIKM 2019): multi-interest retrieval with B2I dynamic routing and "
                             "label-aware attention vs a single-vector model, on users who mix planted item clusters.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    epochs = o.epochs;
    flags.add("min-history", &o.world.min_history, "shortest history");
    flags.add("max-history", &o.world.max_history, "longest history");
    flags.add("dim", &o.dim, "D, the embedding and interest size");
    flags.add("hidden", &o.hidden, "the ReLU layer on each interest (0 = none)");
    flags.add("iterations", &o.iterations, "r, routing iterations");
    flags.add("negatives", &o.negatives, "sampled-softmax negatives per batch");
    flags.add("batch", &o.batch, "batch size");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("clusters", &o.world.clusters, "planted item clusters");
    flags.add("items-per-cluster", &o.world.items_per_cluster, "items in each cluster");
    flags.add("min-interests", &o.world.min_interests, "fewest clusters a user mixes");
    flags.add("max-interests", &o.world.max_interests, "most clusters a user mixes");
    flags.add("train-users", &o.world.train_users, "training users (one example each)");
    flags.add("test-users", &o.world.test_users, "test users");
    std::string models = "all";
    flags.add("models", &models, "which models to train: all, or comma-separated indices into the table (0 = mean pooling)");
    flags.parse_or_exit(argc, argv);
    if (models != "all") {
        const std::vector<ModelSpec> all = o.specs;
        o.specs.clear();
        for (size_t i = 0; i < models.size();) {
            const size_t j = std::min(models.find(',', i), models.size());
            const std::string item = models.substr(i, j - i);
            if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos || std::stoul(item) >= all.size()) {
                std::fprintf(stderr, "ch74_mind: --models: '%s' is not an index in 0..%zu\n", item.c_str(), all.size() - 1);
                return 2;
            }
            o.specs.push_back(all[std::stoul(item)]);
            i = j + 1;
        }
    }
    o.world.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) apply_quick(o);
    if (o.dim < 1 || o.iterations < 1 || o.negatives < 1 || o.batch < 1 || o.epochs < 1 || !(o.lr > 0)) {
        std::fprintf(stderr, "ch74_mind: --dim, --iterations, --negatives, --batch, --epochs must be >= 1 and --lr > 0\n");
        return 2;
    }

    std::printf("# Chapter 74: MIND, multi-interest retrieval\n\nseed %llu%s\n\n",
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
        std::fprintf(stderr, "ch74_mind: %s\n", e.what());
        return 1;
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch74_mind", [&] { return run_main(argc, argv); });
}

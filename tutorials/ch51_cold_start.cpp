// Chapter 51: cold start, as a lab. A synthetic shop with a long-tailed log; new users get
// popularity, demographic and interest-tag recommendations; new items get content, expert-label
// and side-information embeddings (BGE / GES / EGES of Wang et al., KDD 2018).
// Markdown tables on stdout; CSV and SVG pictures (EGES's learned weights) under --out.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch51_cold_start.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch51;

static void print_users(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## New users: rank all old items for users the log has never seen (mean over %d worlds)\n\n", o.worlds);
    std::printf("| method | true CTR of top %d | share of oracle lift | min over worlds | GAUC on their clicks |\n|---|---|---|---|---|\n",
                o.top_k);
    for (int m = 0; m < kNumUserMethods; ++m)
        std::printf("| %s | %.4f | %.3f | %.3f | %.4f |\n", kUserMethodNames[m], rep.mean([&](const World& w) { return w.user_top[m]; }),
                    rep.mean([&](const World& w) { return w.user_share[m]; }), rep.min([&](const World& w) { return w.user_share[m]; }),
                    rep.mean([&](const World& w) { return w.user_gauc[m]; }));
    std::printf("| (oracle: the planted probabilities) | %.4f | 1 | | |\n\n", rep.mean([](const World& w) { return w.oracle_user; }));
    std::printf("True CTR of top %d: the mean planted click probability of the %d items each new user gets. "
                "Share of oracle lift: (method - random) / (oracle - random).\n\n", o.top_k, o.top_k);
}

static void print_items(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## New items: rank the new items for each old user (mean over %d worlds)\n\n", o.worlds);
    std::printf("| method | true CTR of top %d | share of oracle lift | min over worlds | GAUC on their clicks |\n|---|---|---|---|---|\n",
                o.item_top_k);
    for (int m = 0; m < kNumItemMethods; ++m)
        std::printf("| %s | %.4f | %.3f | %.3f | %.4f |\n", kItemMethodNames[m], rep.mean([&](const World& w) { return w.item_top[m]; }),
                    rep.mean([&](const World& w) { return w.item_share[m]; }), rep.min([&](const World& w) { return w.item_share[m]; }),
                    rep.mean([&](const World& w) { return w.item_gauc[m]; }));
    std::printf("| (oracle) | %.4f | 1 | | |\n\n", rep.mean([](const World& w) { return w.oracle_item; }));
    std::printf("A new item has no trained id embedding: BGE is left with its random initial row, GES and EGES "
                "average the item's side-information embeddings (tag, keywords, shop). The last row weights them "
                "by EGES's mean learned weights over the warm items instead (not the paper's rule).\n\n");
}

static void print_warm(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Warm items by how often the log showed them: share of oracle lift, top %d of each quintile\n\n", o.item_top_k);
    std::printf("| quintile | mean impressions | BGE | GES | EGES | EGES weight on id | tag | keywords | shop |\n|---|---|---|---|---|---|---|---|---|\n");
    for (int q = 0; q < kBuckets; ++q) {
        std::printf("| %d | %.1f |", q + 1, rep.mean([&](const World& w) { return w.bucket_impressions[q]; }));
        for (int a = 0; a < 3; ++a) std::printf(" %.3f |", rep.mean([&](const World& w) { return w.warm_share[a][q]; }));
        for (int f = 0; f < 4; ++f) std::printf(" %.3f |", rep.mean([&](const World& w) { return w.weight[q][f]; }));
        std::printf("\n");
    }
    std::printf("\nWeights: EGES's softmax(a_v), mean over the quintile's items; they start at 1/4 each.\n\n");
}

static void print_claims(const StudyReport& rep) {
    auto ugap = [&](int a, int b) { return rep.min([&](const World& w) { return w.user_share[a] - w.user_share[b]; }); };
    auto igap = [&](int a, int b) { return rep.min([&](const World& w) { return w.item_share[a] - w.item_share[b]; }); };
    std::printf("## The chapter's claims in this run (smallest gap over worlds, in share of oracle lift)\n\n| claim | holds | numbers |\n|---|---|---|\n");
    print_claim("new users: popularity beats random", ugap(kUPopular, kURandom) > 0, num("%+.3f", ugap(kUPopular, kURandom)));
    print_claim("new users: demographic popularity beats plain popularity", ugap(kUDemographic, kUPopular) > 0,
                num("%+.3f", ugap(kUDemographic, kUPopular)));
    print_claim("new users: interest tags beat plain popularity", ugap(kUTags, kUPopular) > 0,
                num("%+.3f", ugap(kUTags, kUPopular)));
    print_claim("new items: side-information embeddings (EGES) beat id-only (BGE)", igap(kIEGES, kIBGE) > 0,
                num("%+.3f", igap(kIEGES, kIBGE)));
    print_claim("new items: BGE is no better than random",
                std::fabs(rep.mean([](const World& w) { return w.item_share[kIBGE]; })) < 0.1,
                num("mean share %.3f", rep.mean([](const World& w) { return w.item_share[kIBGE]; })));
    const double id_head = rep.mean([](const World& w) { return w.weight[kBuckets - 1][0]; });
    const double id_tail = rep.mean([](const World& w) { return w.weight[0][0]; });
    print_claim("EGES gives the id more weight on frequent items than on rare ones", id_head > id_tail,
                num("%.3f", id_head) + " vs " + num("%.3f", id_tail));
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger users(dir + "/new_users.csv", {"world", "method", "top_true_ctr", "share", "gauc"});
    CsvLogger items(dir + "/new_items.csv", {"world", "method", "top_true_ctr", "share", "gauc"});
    CsvLogger warm(dir + "/warm_items.csv", {"world", "quintile", "impressions", "bge", "ges", "eges", "w_id", "w_tag", "w_keywords", "w_shop"});
    for (size_t r = 0; r < rep.worlds.size(); ++r) {
        const World& w = rep.worlds[r];
        for (int m = 0; m < kNumUserMethods; ++m)
            users.row({std::to_string(r), kUserMethodNames[m], num("%.6g", w.user_top[m]), num("%.6g", w.user_share[m]), num("%.6g", w.user_gauc[m])});
        for (int m = 0; m < kNumItemMethods; ++m)
            items.row({std::to_string(r), kItemMethodNames[m], num("%.6g", w.item_top[m]), num("%.6g", w.item_share[m]), num("%.6g", w.item_gauc[m])});
        for (int q = 0; q < kBuckets; ++q)
            warm.row(std::vector<double>{double(r), double(q + 1), w.bucket_impressions[q], w.warm_share[0][q], w.warm_share[1][q],
                                         w.warm_share[2][q], w.weight[q][0], w.weight[q][1], w.weight[q][2], w.weight[q][3]});
    }
    Heatmap map{"EGES weights softmax(a_v) by item frequency (mean over worlds)", "field", "frequency quintile (1 = rarest)",
                kBuckets, 4, {}, {}, rep.field_names, 40};
    for (int q = 0; q < kBuckets; ++q) {
        map.row_labels.push_back(std::to_string(q + 1) + " (" + num("%.0f", rep.mean([&](const World& w) { return w.bucket_impressions[q]; })) + " imp.)");
        for (int f = 0; f < 4; ++f) map.values.push_back(float(rep.mean([&](const World& w) { return w.weight[q][f]; })));
    }
    write_text_file(dir + "/eges_weights.svg", heatmap_svg(map));
    LineChart chart{"Warm items: share of oracle lift by frequency quintile", "quintile (1 = rarest)", "share of oracle lift", {}, false, 560, 360};
    const char* names[] = {"BGE (id only)", "GES", "EGES"};
    for (int a = 0; a < 3; ++a) {
        Series s{names[a], {}, {}};
        for (int q = 0; q < kBuckets; ++q) s.x.push_back(q + 1), s.y.push_back(rep.mean([&](const World& w) { return w.warm_share[a][q]; }));
        chart.series.push_back(s);
    }
    write_text_file(dir + "/warm_by_frequency.svg", line_chart_svg(chart));
    (void)o;
}

static int run_main(int argc, char** argv) {
    Flags flags("ch51_cold_start", "Cold start: popularity, demographics and interest tags for new users; content, "
                                   "expert labels and side-information embeddings (BGE, GES, EGES) for new items.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int worlds = 0, users = 0, per_user = 0;
    epochs = o.epochs;
    flags.add("worlds", &worlds, "independent shops; 0: the configuration's own (3; --quick 2)");
    flags.add("users", &users, "users per shop; 0: the configuration's own (2000; --quick 1000)");
    flags.add("impressions", &per_user, "impressions per user before thinning; 0: the configuration's own (150)");
    flags.add("dim", &o.dim, "item embedding size D");
    flags.add("lr", &o.lr, "Adam learning rate (embeddings and FM)");
    flags.add("tail-rank", &o.data.tail_rank, "long tail: the item of exposure rank r keeps min(1, tail_rank / (r + 1)) of its impressions");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.worlds = 2, o.data.num_users = 1000, o.epochs = 5;
    if (worlds > 0) o.worlds = worlds;
    if (users > 0) o.data.num_users = users;
    if (per_user > 0) o.data.items_per_user = per_user;
    if (o.dim < 1 || o.epochs < 1 || o.data.tail_rank <= 0.0) {
        std::fprintf(stderr, "ch51_cold_start: --dim, --epochs and --tail-rank must be positive\n");
        return 2;
    }

    std::printf("# Chapter 51: cold start\n\n");
    std::printf("%d users (%.0f%% new), %d items (%.0f%% new), %d impressions per user before thinning to a long tail "
                "(tail rank %g); EGES D = %d, %d epochs of %d (item, user) click pairs, K = %d negative users, Adam lr %g; %d worlds; seed %llu\n\n",
                o.data.num_users, 100 * o.data.new_user_fraction, o.data.num_items, 100 * o.data.new_item_fraction,
                o.data.items_per_user, o.data.tail_rank, o.dim, o.epochs, o.pairs_per_epoch, o.negatives, o.lr, o.worlds,
                static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ch51_cold_start: %s\n", e.what());
        return 1;
    }
    std::printf("Training log per world: %.0f impressions, %.0f clicks.\n\n", rep.mean([](const World& w) { return w.train_rows; }),
                rep.mean([](const World& w) { return w.train_clicks; }));
    print_users(o, rep);
    print_items(o, rep);
    print_warm(o, rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        try {
            write_outputs(o, rep, flags.out);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ch51_cold_start: writing %s: %s\n", flags.out.c_str(), e.what());
            return 1;
        }
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch51_cold_start", [&] { return run_main(argc, argv); });
}

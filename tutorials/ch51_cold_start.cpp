// Chapter 51: EGES (Wang et al., KDD 2018) as a lab: sessions -> item graph -> weighted walks ->
// skip-gram for BGE, GES and EGES; link prediction, cold items, EGES's weights; claims paired over
// worlds, main and control (random side information), or on MovieLens-100k (--data). Markdown and CSV.
#include <string>

#include "tutorials/ch51_cold_start.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/next_item_report.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch51;

static void print_results(Report& report, const Results& r) {
    auto mean = [](const std::vector<World>& v, auto f) { return num("%.4f", mean_over(v, f)); };
    const std::string main = r.real ? "ML-100k: AUC" : "main: AUC";
    report.text(std::string(r.real ? "MovieLens-100k's graph" : "A main world's graph") + ", on average: " + num("%.0f training edges, ", mean_over(r.main, [](const World& w) { return w.edges; })) +
                num("%.0f held-out edges, ", mean_over(r.main, [](const World& w) { return w.test_edges; })) +
                num("%.0f edges of cold items.", mean_over(r.main, [](const World& w) { return w.cold_edges; })));
    std::vector<std::string> cells = {main, "control: AUC"};   // --data: no control column
    if (r.control.empty()) cells.pop_back();
    auto with_cells = [&](std::vector<std::string> first) { first.insert(first.end(), cells.begin(), cells.end()); return first; };
    auto row = [&](const char* name, auto f) {
        std::vector<std::string> x = {name, mean(r.main, f)};
        if (!r.control.empty()) x.push_back(mean(r.control, f));
        return x;
    };
    Table t("link_prediction", with_cells({"model"}));
    for (int m = 0; m < 3; ++m) t.add(row(kModelNames[m], [&](const World& w) { return w.auc[m]; }));
    report.table(t, "Link prediction: held-out third of the edges against as many unconnected pairs (cosine of H_i, H_j)");
    Table c("cold_items", with_cells({"score of (cold item, warm item)"}));
    for (int m = 0; m < kNumCold; ++m) c.add(row(kColdNames[m], [&](const World& w) { return w.cold_auc[m]; }));
    report.table(c, "Cold items: their edges (never trained on) against as many unconnected pairs");
    if (r.real) {
        Table u("cold_items_by_user", {"score of a cold movie for a user (mean over her warm movies)", main});
        for (int m = 0; m < kNumCold; ++m) u.add(row(m ? kColdNames[m] : "random scores (no side information)", [&](const World& w) { return w.user_auc[m]; }));
        report.table(u, "Cold movies ranked for each user who rated some of them, AUC averaged over those users");
        Table n("cold_users", {"score of a warm movie for a cold user", main});
        for (int k = 0; k < 3; ++k) n.add(row(k == 0 ? "popularity (ratings by warm users)" : k == 1 ? "EGES: cosine with all warm users' mean" : "EGES: cosine with her demographic values' means", [&](const World& w) { return w.new_user_auc[k]; }));
        report.table(n, "Cold users: every warm movie ranked from demographics alone, AUC of her rated movies, averaged over cold users");
    }
    Table w("eges_weights", {std::string("warm items, training-degree fifth (") + (r.real ? "ML-100k)" : "main world)"), "mean degree", "id", "category", "shop", "brand"});
    for (int q = 0; q < kBuckets; ++q) {
        std::vector<std::string> row = {std::to_string(q + 1), num("%.1f", mean_over(r.main, [&](const World& x) { return x.bucket_degree[q]; }))};
        for (int f = 0; f < kFields; ++f) row.push_back(num("%.3f", mean_over(r.main, [&](const World& x) { return x.weight[q][f]; })));
        w.add(row);
    }
    report.table(w, "EGES's weights softmax(a_v) by item frequency (they start at 1/4 each)");
}

int main(int argc, char** argv) {
    return guarded_main("ch51_cold_start", [&] {
        Options o;
        Flags flags("ch51_cold_start", "EGES: item graph from sessions, weighted walks, skip-gram; BGE vs GES vs EGES "
                                       "on link prediction, cold items by side information.");
        flags.on_quick([&] { o = quick_options(); });
        flags.add("worlds", &o.worlds, "independent shops per cell (main, control)", at_least(1));
        flags.add("items", &o.data.items, "items per shop", at_least(200));
        flags.add("users", &o.data.users, "users per shop", at_least(10));
        flags.add("walks", &o.sgns.walks_per_node, "walks per node", at_least(1));
        flags.add("dim", &o.sgns.dim, "embedding size D", between(1, 256));
        flags.add("lr", &o.sgns.lr, "SGD learning rate of the embeddings", above(0.0));
        std::string data;
        datasets::ItemGraphWorld real;   // --data: 5 seeds unless set; 10% of the movies cold
        add_movielens_flag(flags, &data, [&](const datasets::MovieLens100k& ml) {
            o.worlds = flags.given("worlds") ? o.worlds : 5;
            real = datasets::movielens_item_graph(ml, 0.1, flags.seed, 0.1);
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 51: cold start with side information (EGES)");
        if (!data.empty())
            report.text("MovieLens-100k from " + data + ": each user's ratings in time order are her clicks, cut into sessions at "
                        "gaps over an hour; side information: first genre (category), release decade (shop), second genre (brand); "
                        "10% of the movies and 10% of the users are cold, held out with all their ratings (datasets/ch51_item_graph.h, "
                        "movielens_item_graph); cold users have age band, gender, occupation. The seeds share the data and the cold sets: no verdicts.");
        if (!data.empty()) o.data.items = real.opt.items, o.data.users = real.opt.users;
        report.text(num("%.0f items, ", o.data.items) + num("%.0f users; ", o.data.users) + num("%.0f walks of ", o.sgns.walks_per_node) +
                    num("%.0f per node, window ", o.sgns.walk_length) + num("%.0f, ", o.sgns.window) + num("%.0f negatives, D = ", o.sgns.negatives) +
                    num("%.0f; ", o.sgns.dim) + num("%.0f worlds per cell; seed ", o.worlds) + std::to_string(o.seed) + ".");
        if (data.empty()) report.text("What the main world builds in: items co-occur by latent cluster; category and shop reveal the "
                    "cluster in part, brand is noise. The control world draws category and shop at random too.");
        const Results r = run_experiment(o, data.empty() ? nullptr : &real);
        print_results(report, r);
        Claims claims = judge(o, r);
        claims.quick = flags.quick, claims.one_dataset = !data.empty();   // the quick run is too short for verdicts; --data: one data set
        claims.print(report);
        report.finish(r.seconds);
        return 0;
    });
}

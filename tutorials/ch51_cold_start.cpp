// Chapter 51: cold start, as a lab: popularity, demographics and tags for new users; content, expert
// labels and side-information embeddings (BGE / GES / EGES, Wang et al., KDD 2018) for new items;
// claims paired over worlds, main and control (side information shuffled). Markdown and CSV.
#include <string>

#include "tutorials/ch51_cold_start.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch51;

static void print_results(Report& report, const Options& o, const Results& r) {
    auto mean = [](const std::vector<World>& v, auto f) { return num("%.3f", mean_over(v, f)); };
    Table u("new_users", {"method (main world)", "share of oracle lift, top " + std::to_string(o.top_k)});
    for (int m = 0; m < kNumUserMethods; ++m) u.add({kUserMethodNames[m], mean(r.main, [&](const World& w) { return w.user_share[m]; })});
    report.table(u, "New users: rank the old items for users the log has never seen");
    Table t("new_items", {"method", "main: share of oracle lift", "control: share of oracle lift"});
    for (int m = 0; m < kNumItemMethods; ++m)
        t.add({kItemMethodNames[m], mean(r.main, [&](const World& w) { return w.item_share[m]; }),
               mean(r.control, [&](const World& w) { return w.item_share[m]; })});
    report.table(t, "New items: rank the new items for each old user (top " + std::to_string(o.item_top_k) + ")");
    Table w("eges_weights", {"warm items, frequency quintile (main world)", "mean impressions", "id", "tag", "keywords", "shop"});
    for (int q = 0; q < kBuckets; ++q) {
        std::vector<std::string> row = {std::to_string(q + 1), num("%.1f", mean_over(r.main, [&](const World& x) { return x.bucket_impressions[q]; }))};
        for (int f = 0; f < 4; ++f) row.push_back(mean(r.main, [&](const World& x) { return x.weight[q][f]; }));
        w.add(row);
    }
    report.table(w, "EGES's weights softmax(a_v) by item frequency (they start at 1/4 each)");
}

int main(int argc, char** argv) {
    return guarded_main("ch51_cold_start", [&] {
        Options o;
        Flags flags("ch51_cold_start", "Cold start: popularity, demographics and interest tags for new users; content, "
                                       "expert labels and side-information embeddings (BGE, GES, EGES) for new items.");
        flags.on_quick([&] { o = quick_options(); });
        flags.add("epochs", &o.epochs, "passes of the embeddings over the click pairs", at_least(1));
        flags.add("worlds", &o.worlds, "independent shops per cell (main, control)", at_least(1));
        flags.add("users", &o.data.num_users, "users per shop", at_least(20));
        flags.add("dim", &o.dim, "item embedding size D", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate of the embeddings", above(0.0));
        flags.add("tail-rank", &o.data.tail_rank, "the item of exposure rank r keeps min(1, tail_rank / (r + 1))", above(0.0));
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 51: cold start");
        report.text(num("%.0f users, ", o.data.num_users) + num("%.0f items (10%% of each new), ", o.data.num_items) +
                    num("%.0f impressions per user before thinning; EGES D = ", o.data.items_per_user) + num("%.0f, ", o.dim) +
                    num("%.0f epochs of ", o.epochs) + num("%.0f click pairs, ", o.pairs_per_epoch) + num("Adam lr %g; ", o.lr) +
                    num("%.0f worlds per cell; seed ", o.worlds) + std::to_string(o.seed) + ".");
        report.text("What the main world builds in: an item's tag and keywords come from its taste vector, so side "
                    "information predicts who clicks it. The control world gives every item the side information of "
                    "another item (a random permutation), so it predicts nothing.");
        const Results r = run_experiment(o);
        print_results(report, o, r);
        Claims claims = judge(o, r);
        claims.quick = flags.quick;   // the quick run is too short for verdicts
        claims.print(report);
        report.finish(r.seconds);
        return 0;
    });
}

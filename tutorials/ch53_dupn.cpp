// Chapter 53: DUPN, a universal user representation learned from several e-commerce tasks, as a
// lab. A synthetic shop where latent user traits drive behaviour sequences and tasks; DUPN trained
// multi-task vs single-task (CTR); both frozen and transferred to a new task with a logistic head.
// Markdown tables on stdout; CSV and SVG pictures (attention maps) under --out.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch53_dupn.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch53;

static void print_transfer(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Transfer to a new task: logistic head on the frozen representation (AUC on %d new users)\n\n",
                o.world.transfer_users - o.world.transfer_users / 2);
    std::printf("| representation | ");
    for (size_t s = 0; s < rep.seeds.size(); ++s) std::printf("seed %zu | ", s + 1);
    std::printf("mean |\n|---|");
    for (size_t s = 0; s <= rep.seeds.size(); ++s) std::printf("---|");
    std::printf("\n");
    for (int k = 0; k < kNumReps; ++k) {
        std::printf("| %s | ", kRepNames[k]);
        for (const SeedResult& r : rep.seeds) std::printf("%.4f | ", r.new_auc[k]);
        std::printf("%.4f |\n", rep.mean([&](const SeedResult& r) { return r.new_auc[k]; }));
    }
    std::printf("\nNew task: 1[z1 + z2 - z3 + noise > 0]; DUPN never saw it. The head trains on %d other new users.\n\n",
                o.world.transfer_users / 2);
}

static void print_ctr(const StudyReport& rep) {
    std::printf("## The shared task: CTR AUC on the new users' candidates\n\n| model | mean AUC | min over seeds |\n|---|---|---|\n");
    for (int k = 0; k < 2; ++k)
        std::printf("| %s | %.4f | %.4f |\n", kRepNames[k], rep.mean([&](const SeedResult& r) { return r.ctr_auc[k]; }),
                    rep.min([&](const SeedResult& r) { return r.ctr_auc[k]; }));
    std::printf("\n");
}

static void print_attention(const StudyOptions& o, const StudyReport& rep) {
    const int T = o.world.length;
    std::printf("## Attention (multi-task DUPN): mean weight per step, by behaviour type (uniform = %.4f)\n\n", 1.0 / T);
    std::printf("| | buy (reveals the user) | click (random item) | ratio buy / click |\n|---|---|---|---|\n");
    for (size_t s = 0; s < rep.seeds.size(); ++s) {
        const SeedResult& r = rep.seeds[s];
        std::printf("| seed %zu | %.4f | %.4f | %.2f |\n", s + 1, r.buy_mass[0], r.buy_mass[1], r.buy_mass[0] / r.buy_mass[1]);
    }
    std::printf("\nSingle-task DUPN, ratio buy / click: ");
    for (const SeedResult& r : rep.seeds) std::printf("%.2f ", r.ctr_buy_mass);
    std::printf("\n\n| position | ");
    for (int t = 0; t < T; ++t) std::printf("%d | ", t + 1);
    std::printf("\n|---|");
    for (int t = 0; t < T; ++t) std::printf("---|");
    const char* names[] = {"click", "buy"};
    for (int ty = 1; ty >= 0; --ty) {
        std::printf("\n| %s | ", names[ty]);
        for (int t = 0; t < T; ++t)
            std::printf("%.3f | ", rep.mean([&](const SeedResult& r) { return r.type_time[size_t(ty * T + t)]; }));
    }
    std::printf("\n\n(mean attention weight by behaviour type and position, seed mean)\n\n");
}

static void print_claims(const StudyReport& rep) {
    const double gap = rep.min([](const SeedResult& r) { return r.new_auc[kMulti] - r.new_auc[kSingle]; });
    const double ctr_gap = rep.min([](const SeedResult& r) { return r.ctr_auc[0] - r.ctr_auc[1]; });
    const double ratio = rep.min([](const SeedResult& r) { return r.buy_mass[0] / r.buy_mass[1]; });
    std::printf("## The paper's claims in this run\n\n| claim | holds | numbers |\n|---|---|---|\n");
    print_claim("multi-task representation transfers better than single-task, every seed", gap > 0,
                "smallest gap in new-task AUC " + num("%+.4f", gap));
    print_claim("multi-task does not hurt the shared CTR task, every seed", ctr_gap > -0.01,
                "smallest CTR AUC gap multi - single " + num("%+.4f", ctr_gap));
    print_claim("attention prefers the behaviours that reveal the user (buys over random clicks)", ratio > 1.0,
                "smallest buy / click weight ratio " + num("%.2f", ratio));
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    const int T = o.world.length;
    CsvLogger runs(dir + "/runs.csv", {"seed", "representation", "new_task_auc"});
    CsvLogger att(dir + "/attention_by_type.csv", {"seed", "type", "position", "weight"});
    for (size_t s = 0; s < rep.seeds.size(); ++s) {
        const SeedResult& r = rep.seeds[s];
        for (int k = 0; k < kNumReps; ++k) runs.row({std::to_string(s + 1), kRepNames[k], num("%.6g", r.new_auc[k])});
        for (int ty = 0; ty < 2; ++ty)
            for (int t = 0; t < T; ++t)
                att.row({std::to_string(s + 1), ty == kBuy ? "buy" : "click", std::to_string(t + 1),
                         num("%.6g", r.type_time[size_t(ty * T + t)])});
    }
    const SeedResult& r = rep.seeds.front();
    Heatmap users{"Attention of multi-task DUPN on 12 new users (row label: B = buy, c = click)", "position", "user",
                  r.example.weights.dim(0), T, {}, {}, {}, 26};
    users.values.assign(r.example.weights.data(), r.example.weights.data() + r.example.weights.size());
    for (int i = 0; i < users.rows; ++i) {
        std::string label;
        for (int t = 0; t < T; ++t) label += r.example_types[size_t(i * T + t)] == kBuy ? 'B' : 'c';
        users.row_labels.push_back(label);
    }
    for (int t = 0; t < T; ++t) users.col_labels.push_back(std::to_string(t + 1));
    write_text_file(dir + "/attention_users.svg", heatmap_svg(users));
    Heatmap by_type{"Mean attention by behaviour type and position (seed mean)", "position", "type", 2, T, {}, {"buy", "click"},
                    {}, 30};
    for (int ty = 1; ty >= 0; --ty)
        for (int t = 0; t < T; ++t)
            by_type.values.push_back(float(rep.mean([&](const SeedResult& x) { return x.type_time[size_t(ty * T + t)]; })));
    by_type.col_labels = users.col_labels;
    write_text_file(dir + "/attention_by_type.svg", heatmap_svg(by_type));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch53_dupn", "DUPN (Ni et al., KDD 2018): a user representation learned from several tasks vs one task, "
                             "transferred frozen to a new task, on a synthetic shop with latent user traits.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int seeds = 0, users = 0;
    epochs = o.train.epochs;
    flags.add("seeds", &seeds, "independent worlds; 0: the configuration's own (3)");
    flags.add("users", &users, "training users; 0: the configuration's own (3000; --quick 1500)");
    flags.add("lr", &o.train.lr, "Adam learning rate");
    flags.add("hidden", &o.train.hidden, "H, LSTM state and representation size");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.train.epochs = epochs;
    if (flags.quick) o.world.users = 1500, o.world.transfer_users = 600, o.train.epochs = std::min(o.train.epochs, 3);
    if (seeds > 0) o.seeds = seeds;
    if (users > 0) o.world.users = users;
    if (o.train.epochs < 1 || o.train.hidden < 1 || !(o.train.lr > 0.0)) {
        std::fprintf(stderr, "ch53_dupn: --epochs and --hidden must be >= 1 and --lr > 0\n");
        return 2;
    }

    std::printf("# Chapter 53: DUPN, universal user representations from multiple tasks\n\n");
    std::printf("%d training users x %d CTR rows, %d new users, %d items, T = %d behaviours (buy rate %.2f); "
                "d = %d, H = %d; Adam lr %g, batch %d, %d epochs; %d seeds; seed %llu\n\n",
                o.world.users, o.world.ctr_rows_per_user, o.world.transfer_users, o.world.items, o.world.length,
                o.world.buy_rate, o.train.dim, o.train.hidden, o.train.lr, o.train.batch, o.train.epochs, o.seeds,
                static_cast<unsigned long long>(o.seed));
    const StudyReport rep = run_study(o);
    print_transfer(o, rep);
    print_ctr(rep);
    print_attention(o, rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch53_dupn", [&] { return run_main(argc, argv); });
}

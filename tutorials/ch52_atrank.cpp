// Chapter 52: ATRank, attention over heterogeneous user behaviours, as a lab. Synthetic logs of
// clicks and searches with a planted rule (a click leads to a purchase only if its session holds
// a search, and only if recent); mean pooling, a GRU, candidate attention and ATRank trained on them; AUC on
// held-out users. Markdown tables on stdout; CSV and SVG pictures (attention maps) under --out.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch52_atrank.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch52;

static std::string fmt(const char* f, double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, f, x);
    return buf;
}

static void print_auc(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Held-out AUC (%d worlds)\n\n", o.replicates);
    std::printf("| encoder | AUC (noisy labels) | min over worlds | AUC against the planted rule | AUC after epoch 1 | after epoch %d |\n",
                o.epochs / 2);
    std::printf("|---|---|---|---|---|---|\n");
    for (int m = 0; m < kNumModels; ++m)
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f |\n", kModelNames[m], rep.mean([&](const Replicate& r) { return r.auc[m]; }),
                    rep.min([&](const Replicate& r) { return r.auc[m]; }), rep.mean([&](const Replicate& r) { return r.truth_auc[m]; }),
                    rep.mean([&](const Replicate& r) { return r.curve[m].front(); }),
                    rep.mean([&](const Replicate& r) { return r.curve[m][size_t(o.epochs / 2 - 1)]; }));
    std::printf("\nWith label noise %.2f the best possible AUC against the noisy labels is below 1; against the "
                "rule it is 1.\n\n", o.world.label_noise);
}

static void print_kinds(const StudyReport& rep) {
    std::printf("## Mean predicted probability by kind of candidate (mean over worlds)\n\n| candidate |");
    for (int m = 0; m < kNumModels; ++m) std::printf(" %s |", kModelNames[m]);
    std::printf("\n|---|");
    for (int m = 0; m < kNumModels; ++m) std::printf("---|");
    std::printf("\n");
    for (int k = 0; k < kNumKinds; ++k) {
        std::printf("| %s |", kKindNames[k]);
        for (int m = 0; m < kNumModels; ++m) std::printf(" %.3f |", rep.mean([&](const Replicate& r) { return r.mean_score[m][k]; }));
        std::printf("\n");
    }
    std::printf("\nOnly the first row is positive under the rule. ATRank's clicks in sessions with a search put "
                "%.3f of their self-attention on their own session's search and %.3f on all other searches.\n\n",
                rep.mean([](const Replicate& r) { return r.self_to_own_query; }),
                rep.mean([](const Replicate& r) { return r.self_to_other_query; }));
}

static void print_worlds(const StudyReport& rep) {
    std::printf("## Per world: held-out AUC, and where ATRank's searched clicks look\n\n| world |");
    for (int m = 0; m < kNumModels; ++m) std::printf(" %s |", kModelNames[m]);
    std::printf(" ATRank attention on own session's search / on all other searches |\n|---|");
    for (int m = 0; m <= kNumModels; ++m) std::printf("---|");
    std::printf("\n");
    for (size_t r = 0; r < rep.reps.size(); ++r) {
        const Replicate& x = rep.reps[r];
        std::printf("| %zu |", r + 1);
        for (int m = 0; m < kNumModels; ++m) std::printf(" %.4f |", x.auc[m]);
        std::printf(" %.3f / %.3f |\n", x.self_to_own_query, x.self_to_other_query);
    }
    std::printf("\n");
}

static void print_claims(const StudyReport& rep) {
    auto gap = [&](int a, int b) { return rep.min([&](const Replicate& r) { return r.auc[a] - r.auc[b]; }); };
    auto row = [](const std::string& claim, bool holds, const std::string& numbers) {
        std::printf("| %s | %s | %s |\n", claim.c_str(), holds ? "yes" : "**no**", numbers.c_str());
    };
    std::printf("## The paper's claims in this run\n\n| claim | holds in every world | smallest AUC gap |\n|---|---|---|\n");
    for (int b : {kMean, kGru, kTargetAttention})
        row(std::string("ATRank beats ") + kModelNames[b], gap(kATRank, b) > 0, fmt("%+.4f", gap(kATRank, b)));
    std::printf("\n");
}

// One held-out history (a positive candidate from a searched session) as ATRank and candidate
// attention see it: labels like "q c3 @b4" (a search) or "i17 c2 @b4" (a click), ATRank's A_k
// averaged over the K spaces (T, T), and eq. 9's softmax(s) (T) in ATRank and in candidate attention.
struct Picture {
    int T = 0;
    std::vector<std::string> labels;
    std::string candidate;
    std::vector<float> self, target_atrank, target_plain;
};

static Picture draw_picture(Models& m, const World& w) {
    NoGrad no_grad;
    int row = 0;
    while (row + 1 < int(w.test.size()) && w.test[size_t(row)].kind != kSearchedRecent) ++row;
    const BehaviourBatch b = gather(w, w.test, {row});
    const Example& e = w.test[size_t(row)];
    AttentionMaps atr, plain;
    m.atrank.logits(b, &atr);
    m.target.logits(b, &plain);
    Picture pic;
    pic.T = b.T;
    for (const Behaviour& x : w.histories[size_t(e.history)]) {
        const std::string when = " @b" + std::to_string(time_bucket(w.options, x.age_hours));
        pic.labels.push_back(x.is_query ? "q c" + std::to_string(x.category) + when
                                        : "i" + std::to_string(x.item) + " c" + std::to_string(x.category) + when);
    }
    pic.candidate = "i" + std::to_string(e.candidate) + " c" + std::to_string(w.category_of(e.candidate));
    pic.self.assign(size_t(b.T) * size_t(b.T), 0.0f);
    for (const Var& A : atr.self)
        for (size_t i = 0; i < pic.self.size(); ++i) pic.self[i] += A.value()[i] / float(atr.self.size());
    pic.target_atrank.assign(atr.target.value().data(), atr.target.value().data() + b.T);
    pic.target_plain.assign(plain.target.value().data(), plain.target.value().data() + b.T);
    return pic;
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"world", "model", "auc", "truth_auc", "epoch", "epoch_auc"});
    for (size_t r = 0; r < rep.reps.size(); ++r)
        for (int m = 0; m < kNumModels; ++m)
            for (int e = 0; e < o.epochs; ++e)
                runs.row({std::to_string(r), kModelNames[m], fmt("%.6g", rep.reps[r].auc[m]), fmt("%.6g", rep.reps[r].truth_auc[m]),
                          std::to_string(e + 1), fmt("%.6g", rep.reps[r].curve[m][size_t(e)])});
    LineChart chart{"Held-out AUC per epoch (mean over worlds)", "epoch", "AUC", {}, false, 600, 380};
    for (int m = 0; m < kNumModels; ++m) {
        Series s{kModelNames[m], {}, {}};
        for (int e = 0; e < o.epochs; ++e) {
            s.x.push_back(e + 1);
            s.y.push_back(rep.mean([&](const Replicate& r) { return r.curve[m][size_t(e)]; }));
        }
        chart.series.push_back(s);
    }
    write_text_file(dir + "/auc_per_epoch.svg", line_chart_svg(chart));

    size_t best = 0;   // the pictures come from the world where ATRank gained most over candidate attention
    for (size_t r = 1; r < rep.reps.size(); ++r)
        if (rep.reps[r].auc[kATRank] - rep.reps[r].auc[kTargetAttention] >
            rep.reps[best].auc[kATRank] - rep.reps[best].auc[kTargetAttention]) best = r;
    const Picture p = draw_picture(*rep.reps[best].models, *rep.reps[best].world);
    const std::string world = " (world " + std::to_string(best + 1) + ")";
    Heatmap self{"ATRank self-attention" + world, "key behaviour", "query behaviour (row attends to columns)",
                 p.T, p.T, p.self, p.labels, p.labels, 22};
    write_text_file(dir + "/self_attention.svg", heatmap_svg(self));
    std::vector<float> both = p.target_atrank;
    both.insert(both.end(), p.target_plain.begin(), p.target_plain.end());
    Heatmap target{"Candidate " + p.candidate + " reads the behaviours" + world, "behaviour", "", 2, p.T, both,
                   {"ATRank", "candidate attention"}, p.labels, 22};
    write_text_file(dir + "/candidate_attention.svg", heatmap_svg(target));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch52_atrank", "ATRank vs mean pooling, a GRU and candidate attention on synthetic heterogeneous "
                               "behaviour logs (Zhou et al., AAAI 2018).");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int replicates = 0, histories = 0;
    epochs = o.epochs;
    flags.add("replicates", &replicates, "independent worlds; 0: the configuration's own (3; --quick 1)");
    flags.add("histories", &histories, "training users per world; 0: the configuration's own (1500; --quick 1000)");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("categories", &o.world.categories, "item categories");
    flags.add("items-per-category", &o.world.items_per_category, "items in each category");
    flags.add("batch", &o.batch, "users per mini-batch (each with 6 candidates)");
    flags.add("sessions", &o.world.sessions, "sessions per user");
    flags.add("recent-sessions", &o.world.recent_sessions, "of which recent (under 255 hours old)");
    std::string only;
    flags.add("only", &only, "train only these encoders, e.g. 'ta' (m mean, g GRU, t candidate attention, a ATRank)");
    flags.add("spaces", &o.sizes.spaces, "K, ATRank's latent semantic spaces");
    flags.add("noise", &o.world.label_noise, "probability that a label is flipped");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.replicates = 1, o.world.train_histories = 1000, o.epochs = 6;   // too short for ATRank to find the link
    if (replicates > 0) o.replicates = replicates;
    if (!only.empty())
        for (int m = 0; m < kNumModels; ++m) o.train_model[size_t(m)] = only.find("mgta"[m]) != std::string::npos;
    if (histories > 0) o.world.train_histories = histories;
    if (o.epochs < 2 || o.sizes.spaces < 1 || o.world.label_noise < 0 || o.world.label_noise >= 0.5) {
        std::fprintf(stderr, "ch52_atrank: need --epochs >= 2, --spaces >= 1 and 0 <= --noise < 0.5\n");
        return 2;
    }

    std::printf("# Chapter 52: ATRank, attention over heterogeneous behaviours\n\n");
    std::printf("%d categories x %d items; %d training and %d test users per world, 6 candidates each; label noise %.2f; "
                "d = %d, K = %d spaces of %d; Adam lr %g, batches of %d users, %d epochs; %d worlds; seed %llu\n\n",
                o.world.categories, o.world.items_per_category, o.world.train_histories, o.world.test_histories,
                o.world.label_noise, o.sizes.space, o.sizes.spaces, o.sizes.space_dim, o.lr, o.batch, o.epochs,
                o.replicates, static_cast<unsigned long long>(o.seed));
    const StudyReport rep = run_study(o);
    print_auc(o, rep);
    print_kinds(rep);
    print_worlds(rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch52_atrank", [&] { return run_main(argc, argv); });
}

// Chapter 54: a GAN-built user simulator (UserSim) as a lab. Simulated shoppers with hidden tastes
// browse under a logging recommender; from a few logged sessions we learn to predict their
// feedback (skip / click / buy) three ways and score the simulators on held-out users.
// Markdown tables on stdout; CSV and an SVG of the validation curves under --out.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch54_usersim.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch54;

static const char* const kModelNames[kNumModels] = {"supervised (K outputs)", "UserSim (GAN, 2K outputs)",
                                                     "UserSim without L_D^2's fake term"};

struct Row {  // one (training users, model) cell, over the worlds
    std::vector<double> acc, loss;
};

static double mean_of(const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / double(v.size());
}
static double min_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }
static double max_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

static int run_main(int argc, char** argv) {
    Flags flags("ch54_usersim", "UserSim (Zhao et al. 2019): a GAN user simulator whose discriminator predicts "
                                "skip/click/buy, against a supervised classifier, on simulated shoppers.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    Options o;
    int runs = 2;
    std::string users = "100,200";
    epochs = o.epochs;
    flags.add("runs", &runs, "worlds (seeds seed, seed+1, ...) per training-set size");
    flags.add("users", &users, "comma-separated numbers of training users (20 logged steps each)");
    flags.add("lr", &o.lr, "Adam learning rate (both D and G)");
    flags.add("alpha", &o.model.alpha, "weight of the generator's distance term");
    flags.add("hidden", &o.model.hidden, "GRU and MLP width");
    flags.add("batch", &o.batch, "mini-batch size");
    flags.add("items", &o.world.num_items, "items in the shop");
    flags.add("clusters", &o.world.clusters, "item clusters (each user likes two)");
    flags.add("steps", &o.world.steps, "logged steps per user");
    flags.parse_or_exit(argc, argv);
    o.epochs = epochs;
    if (flags.quick) runs = 2, users = "100", o.epochs = 15;
    std::vector<int> sizes;
    for (size_t at = 0; at <= users.size();) {
        size_t comma = users.find(',', at);
        if (comma == std::string::npos) comma = users.size();
        const std::string part = users.substr(at, comma - at);
        try {
            sizes.push_back(std::stoi(part));
        } catch (const std::exception&) {
            std::fprintf(stderr, "ch54_usersim: --users: '%s' is not a number\n", part.c_str());
            return 2;
        }
        if (sizes.back() < 1) {
            std::fprintf(stderr, "ch54_usersim: --users: %d must be at least 1\n", sizes.back());
            return 2;
        }
        at = comma + 1;
    }
    if (runs < 1 || o.epochs < 1 || o.batch < 1 || o.model.hidden < 1) {
        std::fprintf(stderr, "ch54_usersim: --runs, --epochs, --batch and --hidden must be at least 1\n");
        return 2;
    }

    std::printf("# Chapter 54: simulating users with a GAN (UserSim)\n\n");
    std::printf("%d items in %d clusters, D = %d, state = last %d (item, feedback), %d logged steps per user, "
                "%d validation and %d test users; hidden %d, Adam lr %g, batch %d, up to %d epochs (best "
                "validation logloss kept); %d worlds per size, seeds %llu..%llu\n\n",
                o.world.num_items, o.world.clusters, o.world.dim, o.world.history, o.world.steps, o.world.valid_users,
                o.world.test_users, o.model.hidden, o.lr, o.batch, o.epochs, runs,
                static_cast<unsigned long long>(flags.seed), static_cast<unsigned long long>(flags.seed + runs - 1));

    std::unique_ptr<CsvLogger> csv;
    if (!flags.out.empty())
        csv = std::make_unique<CsvLogger>(flags.out + "/results.csv",
                                          std::vector<std::string>{"train_users", "seed", "model", "accuracy", "logloss", "best_epoch"});
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Series> curves;
    std::printf("## Feedback prediction on held-out users (mean over worlds; [min, max])\n\n");
    std::printf("| training users | simulator | accuracy | logloss | best epoch (mean) |\n|---|---|---|---|---|\n");
    for (int n : sizes) {
        Row rows[kNumModels], oracle, prior;
        std::vector<double> epochs[kNumModels], gen_dist, mean_dist, hit10;
        for (int r = 0; r < runs; ++r) {
            Options run = o;
            run.world.train_users = n;
            run.seed = flags.seed + uint64_t(r);
            run.progress = !flags.quick;
            const RunReport rep = run_once(run);
            for (int m = 0; m < kNumModels; ++m) {
                rows[m].acc.push_back(rep.test[m].accuracy);
                rows[m].loss.push_back(rep.test[m].logloss);
                epochs[m].push_back(rep.best_epoch[m]);
                if (csv) csv->row({double(n), double(run.seed), double(m), rep.test[m].accuracy, rep.test[m].logloss, double(rep.best_epoch[m])});
            }
            oracle.acc.push_back(rep.oracle.accuracy), oracle.loss.push_back(rep.oracle.logloss);
            prior.acc.push_back(rep.prior.accuracy), prior.loss.push_back(rep.prior.logloss);
            gen_dist.push_back(rep.gen_distance), mean_dist.push_back(rep.mean_distance), hit10.push_back(rep.gen_hit10);
            if (r == 0 && n == sizes.front())
                for (int m = 0; m < kNumModels; ++m) {
                    Series s{kModelNames[m], {}, rep.valid_curve[m]};
                    for (size_t e = 0; e < s.y.size(); ++e) s.x.push_back(double(e + 1));
                    curves.push_back(s);
                }
        }
        auto line = [&](const char* name, const Row& row, const std::string& epoch) {
            std::printf("| %d | %s | %.4f [%.4f, %.4f] | %.4f [%.4f, %.4f] | %s |\n", n, name, mean_of(row.acc),
                        min_of(row.acc), max_of(row.acc), mean_of(row.loss), min_of(row.loss), max_of(row.loss),
                        epoch.c_str());
        };
        line("class prior (no state)", prior, "");
        for (int m = 0; m < kNumModels; ++m) line(kModelNames[m], rows[m], std::to_string(mean_of(epochs[m])).substr(0, 4));
        line("oracle (true tastes)", oracle, "");
        std::printf("| %d | UserSim's generator: mean ‖G(s) − e_a‖² %.3f (mean embedding: %.3f); real next item among "
                    "the 10 nearest to G(s): %.3f (chance 0.050) | | | |\n",
                    n, mean_of(gen_dist), mean_of(mean_dist), mean_of(hit10));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\n(%.1f s)\n", seconds);
    if (!flags.out.empty()) {
        LineChart chart{"Validation logloss per epoch (" + std::to_string(sizes.front()) + " training users, first world)",
                        "epoch", "validation logloss", curves, false, 640, 400};
        write_text_file(flags.out + "/valid_curves.svg", line_chart_svg(chart));
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch54_usersim", [&] { return run_main(argc, argv); });
}

// Chapter 57's experiment as functions: in independent worlds of card requests (datasets/
// ch57_card_requests.h) random, top-K, random-clique and the paper's greedy clique builder against
// GAttN trained by REINFORCE, + hill-climbing, + learning from demonstrations (clicked logged
// cards), decoded greedily and by beam search; the mean true card reward of each, the paper's
// comparisons judged as paired differences over worlds, in the main world (popular items clash)
// and the control (clash 0). Printing lives in ch57_exact_k.cpp. Deliberately left out: the
// learned reward estimator (policies train on the simulator's true reward), user features.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "datasets/ch57_card_requests.h"
#include "models/ch57_exact_k.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch57 {

using datasets::best_card;
using datasets::features;
using datasets::kFeatures;
using datasets::greedy_card;
using datasets::random_card;
using datasets::random_clique_card;
using datasets::topk_card;
using datasets::best_reward;
using datasets::card_reward;
using datasets::make_request;
using datasets::Request;
using WorldOptions = datasets::CardWorldOptions;

// The model's inputs for a list of requests, each repeated `copies` times (rows r*copies + c).
inline Var inputs(const std::vector<const Request*>& rs, int copies, std::vector<float>* adj) {
    const int N = int(rs[0]->q.size()), R = int(rs.size()) * copies;
    Tensor x({R, N, kFeatures});
    adj->clear();
    for (int r = 0; r < R; ++r) {
        const Request& q = *rs[size_t(r / copies)];
        features(q, &x[size_t(r) * N * kFeatures]);
        adj->insert(adj->end(), q.adj.begin(), q.adj.end());
    }
    return constant(x);
}

// ---- The experiment ----------------------------------------------------------------------------
enum Method { kRandom, kRandomClique, kTopK, kGreedy, kRL, kRLHC, kFull, kFullBeam, kNumMethods };
const char* const kMethodNames[] = {"random", "random clique (masked, untrained)", "top-K by score", "greedy clique (Alg. 1)",
                                    "GAttN, REINFORCE", "GAttN, REINFORCE + hill-climbing",
                                    "GAttN, + demonstrations (RLfD), greedy decoding", "GAttN, RLfD, beam search"};
const char* const kWorlds[] = {"main", "control"};

struct Options {
    WorldOptions world;       // the main world; the control sets clash = 0
    int worlds = 5;           // independent worlds per cell (fresh requests and initialisation)
    int steps = 100;          // training steps per GAttN variant
    int batch = 32;           // requests per step
    int samples = 8;          // M cards sampled per request (their mean reward is the baseline)
    double hc_weight = 1.0;   // weight of the hill-climbing loss
    double alpha = 0.5;       // weight of the demonstrations' loss: alpha SL + (1 - alpha) RL, as the paper
    int beam = 3;             // the paper's beam size
    double lr = 2e-3;         // Adam
    int dim = 32, heads = 4, layers = 2;
    int test_requests = 200;
    bool ablations = true;    // also train REINFORCE alone and without demonstrations
    double margin = 0.01;     // in mean card reward
    uint64_t seed = 42;
    bool quick = false;       // prints intervals, no verdicts
};

inline Options quick_options() {
    Options o;
    o.worlds = 2, o.steps = 40, o.test_requests = 100, o.quick = true;
    return o;
}

struct Score {
    double reward = 0.0;   // mean true card reward
    double hit = 0.0;      // share of requests where the card is a best card
    double clique = 0.0;   // share of cards that are K-cliques
};

struct World {
    Score score[kNumMethods];
    double best = 0.0;     // mean reward of the best cards
};

struct Results {
    std::vector<World> cell[2];   // [main, control]
};

inline void add_card(Score* s, const Request& r, const std::vector<int>& card, double best, int n) {
    const double x = card_reward(r, card);
    s->reward += x / n;
    s->hit += (x >= best - 1e-9 ? 1.0 : 0.0) / n;
    s->clique += (x > 0.0 ? 1.0 : 0.0) / n;
}

// Beam search (the paper decodes with beam 3): keep the `width` prefixes of highest log P; the card
// is the most probable complete one; a stuck prefix continues with -1 and a 1000-nat penalty.
inline std::vector<std::vector<int>> beam_cards(GAttN& m, const std::vector<Request>& test, int width) {
    NoGrad no_grad;
    struct Beam { std::vector<int> card; double logp; };
    const size_t N = test[0].q.size();
    std::vector<std::vector<Beam>> beams(test.size(), std::vector<Beam>{Beam{{}, 0.0}});
    Rng unused(0);
    for (int t = 0; t < m.K; ++t) {
        std::vector<const Request*> rs;
        std::vector<std::vector<int>> prefixes;
        std::vector<size_t> owner;
        std::vector<double> logp;
        for (size_t i = 0; i < test.size(); ++i)
            for (const Beam& b : beams[i]) rs.push_back(&test[i]), prefixes.push_back(b.card), owner.push_back(i), logp.push_back(b.logp);
        std::vector<float> adj;
        const Decoded d = m.decode(inputs(rs, 1, &adj), adj, false, unused, prefixes, t + 1);
        std::vector<std::vector<Beam>> next(test.size());
        for (size_t r = 0; r < rs.size(); ++r) {
            bool any = false;
            for (size_t j = 0; j < N; ++j)
                if (d.last_mask[r * N + j] != 0.0f) {
                    any = true;
                    next[owner[r]].push_back(Beam{prefixes[r], logp[r] + d.last_logp[r * N + j]});
                    next[owner[r]].back().card.push_back(int(j));
                }
            if (!any) next[owner[r]].push_back(Beam{prefixes[r], logp[r] - 1e3}), next[owner[r]].back().card.push_back(-1);
        }
        for (std::vector<Beam>& v : next) {
            std::stable_sort(v.begin(), v.end(), [](const Beam& a, const Beam& b) { return a.logp > b.logp; });
            if (int(v.size()) > width) v.resize(size_t(width));
        }
        beams = std::move(next);
    }
    std::vector<std::vector<int>> cards;
    for (const std::vector<Beam>& v : beams) cards.push_back(v.front().card);
    return cards;
}

inline Score evaluate(const std::vector<std::vector<int>>& cards, const std::vector<Request>& test, const std::vector<double>& best) {
    Score s;
    for (size_t i = 0; i < test.size(); ++i) add_card(&s, test[i], cards[i], best[i], int(test.size()));
    return s;
}
inline std::vector<std::vector<int>> greedy_decode(GAttN& m, const std::vector<Request>& test) {
    NoGrad no_grad;
    std::vector<const Request*> rs;
    for (const Request& r : test) rs.push_back(&r);
    std::vector<float> adj;
    Rng unused(0);
    return m.decode(inputs(rs, 1, &adj), adj, false, unused).cards;
}

// Trains one GAttN. Each step samples M cards per request (G3) and weighs their log-probability by
// reward minus the request's mean sampled reward (REINFORCE with a baseline); with hc_weight > 0
// it also maximises the log-probability of the best sampled card (hill-climbing). With
// demonstrations, a logging policy (random cliques) shows one card per request, clicked with its
// true reward, and the clicked cards are learned by cross-entropy: alpha SL + (1 - alpha) RL.
inline GAttN train(const Options& o, const WorldOptions& w, double hc_weight, bool demonstrations, uint64_t seed) {
    Rng rng(splitmix64(seed));
    GAttN m(kFeatures, o.dim, o.heads, o.layers, w.K, rng);
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const int M = o.samples;
    for (int step = 1; step <= o.steps; ++step) {
        std::vector<Request> batch;
        for (int b = 0; b < o.batch; ++b) batch.push_back(make_request(w, rng));
        std::vector<const Request*> rs;
        for (const Request& r : batch) rs.push_back(&r);
        std::vector<float> adj;
        const Decoded dec = m.decode(inputs(rs, M, &adj), adj, true, rng);       // (B M) sampled cards
        Tensor adv({o.batch * M, 1});
        std::vector<std::vector<int>> best_cards;
        for (int b = 0; b < o.batch; ++b) {
            double base = 0.0;
            int top = 0;
            std::vector<double> rw(static_cast<size_t>(M));
            for (int c = 0; c < M; ++c) {
                rw[size_t(c)] = card_reward(batch[size_t(b)], dec.cards[size_t(b * M + c)]);
                base += rw[size_t(c)] / M;
                if (rw[size_t(c)] > rw[size_t(top)]) top = c;
            }
            best_cards.push_back(dec.cards[size_t(b * M + top)]);
            for (int c = 0; c < M; ++c) adv[size_t(b * M + c)] = float(rw[size_t(c)] - base);
        }
        Var loss = -mean(constant(adv) * dec.log_prob);                            // REINFORCE
        if (hc_weight > 0.0) {                                                     // hill-climbing
            std::vector<float> adj1;
            const Decoded forced = m.decode(inputs(rs, 1, &adj1), adj1, false, rng, best_cards);
            loss = loss - float(hc_weight) * mean(forced.log_prob);
        }
        if (demonstrations) {                                                      // clicked logged cards
            std::vector<const Request*> shown;
            std::vector<std::vector<int>> clicked;
            for (const Request& r : batch) {
                const std::vector<int> card = random_clique_card(r, w.K, rng);
                if (rng.uniform_double() < card_reward(r, card)) shown.push_back(&r), clicked.push_back(card);
            }
            if (!shown.empty()) {
                std::vector<float> adj2;
                const Decoded sl = m.decode(inputs(shown, 1, &adj2), adj2, false, rng, clicked);
                loss = float(1.0 - o.alpha) * loss - float(o.alpha) * mean(sl.log_prob);
            }
        }
        adam.zero_grad();
        backward(loss);
        clip_grad_norm(vars_of(m.named_parameters()), 5.0f);
        adam.step();
        check_finite(loss.item(), step);
    }
    return m;
}

// One world: fresh test requests, the baselines, and the GAttN variants from one initial stream.
inline World run_world(const Options& o, bool control, uint64_t seed) {
    WorldOptions w = o.world;
    if (control) w.clash = 0.0;
    World res;
    Rng world_rng(splitmix64(seed * 7919 + 1)), rng(splitmix64(seed * 7919 + 2));
    std::vector<Request> test;
    std::vector<double> best;
    for (int i = 0; i < o.test_requests; ++i) {
        test.push_back(make_request(w, world_rng));
        best.push_back(best_reward(test.back(), w.K));
        res.best += best.back() / o.test_requests;
    }
    for (int i = 0, n = int(test.size()); i < n; ++i) {
        const Request& r = test[size_t(i)];
        add_card(&res.score[kRandom], r, random_card(r, w.K, rng), best[size_t(i)], n);
        add_card(&res.score[kRandomClique], r, random_clique_card(r, w.K, rng), best[size_t(i)], n);
        add_card(&res.score[kTopK], r, topk_card(r, w.K), best[size_t(i)], n);
        add_card(&res.score[kGreedy], r, greedy_card(r, w.K), best[size_t(i)], n);
    }
    const uint64_t s = seed * 7919 + 3;           // every variant starts from the same weights
    if (o.ablations) {
        GAttN rl = train(o, w, 0.0, false, s), hc = train(o, w, o.hc_weight, false, s);
        res.score[kRL] = evaluate(greedy_decode(rl, test), test, best);
        res.score[kRLHC] = evaluate(greedy_decode(hc, test), test, best);
    }
    GAttN full = train(o, w, o.hc_weight, true, s);
    res.score[kFull] = evaluate(greedy_decode(full, test), test, best);
    res.score[kFullBeam] = evaluate(beam_cards(full, test, o.beam), test, best);
    return res;
}

inline Results run_experiment(const Options& o) {
    Results r;
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < o.worlds; ++i) r.cell[c].push_back(run_world(o, c == 1, replicate_seed(o.seed, i)));
    return r;
}

// The paper's comparisons as paired differences of mean true card reward over worlds.
inline Claims judge(const Options& o, const Results& r) {
    struct Row { const char* claim; const char* paper; int a, b; };
    const Row rows[] = {
        {"GAttN (RLfD, beam) above the greedy clique builder (headline)", "Table 1: +11.0% P@4 over Listwise-MHSA + greedy, ML(4,20)", kFullBeam, kGreedy},
        {"GAttN (RLfD, beam) above top-K by score", "- (every baseline of the paper uses greedy)", kFullBeam, kTopK},
        {"GAttN (RLfD, beam) above random cliques (ours)", "-", kFullBeam, kRandomClique},
        {"demonstrations help: RLfD above REINFORCE + hill-climbing", "Table 2: P@4 0.4743 vs 0.3573 (rows 7, 2)", kFull, kRLHC},
        {"hill-climbing helps REINFORCE", "Table 2: P@4 0.3573 vs 0.3340 (rows 2, 1)", kRLHC, kRL},
        {"beam search (3) above greedy decoding", "Fig. 5: P@4 about 0.474 vs 0.446 [read off the figure]", kFullBeam, kFull}};
    Claims claims;
    claims.quick = o.quick;
    for (int c = 0; c < 2; ++c)
        for (const Row& row : rows) {
            if (!o.ablations && (row.b == kRLHC || row.b == kRL)) continue;
            Claim cl{row.claim, kWorlds[c], c == 0 ? row.paper : "-", {}, o.margin, 4};
            for (const World& w : r.cell[c]) cl.diffs.push_back(w.score[row.a].reward - w.score[row.b].reward);
            claims.add(cl);
        }
    for (int c = 0; c < 2; ++c) {
        bool ok = true;
        for (const World& w : r.cell[c])
            for (int m = 0; m < kNumMethods; ++m) ok = ok && w.score[m].reward <= w.best + 1e-9;
        claims.add_sanity(std::string("no card beats the brute-force best card, ") + kWorlds[c], ok,
                          num("best %.4f", mean_over(r.cell[c], [](const World& w) { return w.best; })));
    }
    return claims;
}

}  // namespace ch57
}  // namespace minirec

// Yi et al. (RecSys 2019), "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item
// Recommendations": the streaming frequency estimator (Algorithms 2 and 3: arrays A and B, several
// hash functions) and the paper's simulation of it (section 6.1, frequency_world), and the two-tower
// model with L2-normalised outputs (section 3, eq. 1 and 5.3). The in-batch softmax with the
// log-probability correction (eqs. 4-7) is nn/losses.h's in_batch_softmax_loss; training with both
// is Algorithm 1 (train_two_tower); serving ranks the whole catalogue (serve_catalogue), for each
// of the three arms (train_and_serve).
// Deliberately left out: sharing embeddings between the towers, the reward weights r_i of eq. 3
// (all 1 here), approximate nearest-neighbour serving.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "core/rng.h"
#include "datasets/retrieval.h"   // and datasets/item_stream.h, the drifting stream of section 6.1
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch72 {

// ---- Streaming frequency estimation (Algorithm 2; several hashings: Algorithm 3) --------------
// Instead of counting items, we learn how many steps pass between two sightings of an item, its
// gap delta. An item that is in a batch with probability p comes back every 1/p steps on average,
// so p = 1/delta. Per hash function k we keep two arrays of H slots:
//     A_k[h]  the last step at which an item hashed to slot h was seen
//     B_k[h]  the running estimate of that slot's gap
// and at step t, for every item y of the batch, in order (an item twice in one batch counts twice):
//     B_k[h_k(y)] <- (1 - alpha) B_k[h_k(y)] + alpha (t - A_k[h_k(y)])      (Algorithm 2)
//     A_k[h_k(y)] <- t
// An item that shares a slot with others (H < number of items) sees the slot's gap shrink, so a
// single hash overestimates p; with several hash functions we trust the largest gap:
//     p(y) = 1 / max_k B_k[h_k(y)]                                           (Algorithm 3)
// With repeats counted, the gap between occurrences averages 1 / (batch size x q_y): the estimate
// is the expected number of times y is in a batch, the paper's label p_y = B q_y.
struct FrequencyEstimatorOptions {
    int buckets = 1000;            // H: slots per hash function
    int hashes = 1;                // how many hash functions (each with its own A and B)
    double alpha = 0.01;           // the step size of the gap estimate
    bool collision_free = false;   // slot = item id, one hash (needs H > every id): the baseline
                                   // that shows what hashing costs
    bool stale_aware = false;      // beyond the paper: query with max(B, t - A), see probability()
    bool first_gap_start = true;   // a slot's first sighting sets B = t - A (= t); false: the
                                   // update runs from B = 0 and gives alpha t (see book/ch72)
    uint64_t seed = 1;             // picks the hash functions
};

class StreamingFrequencyEstimator {
public:
    explicit StreamingFrequencyEstimator(const FrequencyEstimatorOptions& o) : opt_(o) {
        if (o.buckets < 1 || o.hashes < 1 || !(o.alpha > 0.0 && o.alpha <= 1.0))
            arg_fail("StreamingFrequencyEstimator", "need buckets >= 1, hashes >= 1, 0 < alpha <= 1");
        if (o.collision_free) opt_.hashes = 1;
        last_.assign(size_t(opt_.hashes), std::vector<long>(size_t(o.buckets), 0));
        gap_.assign(size_t(opt_.hashes), std::vector<double>(size_t(o.buckets), 0.0));
        for (int k = 0; k < opt_.hashes; ++k) salt_.push_back(splitmix64(o.seed * 0x9E3779B97F4A7C15ull + uint64_t(k)));
    }

    // One training step: t advances by 1 and every occurrence in the batch updates its slots.
    void observe(const Ids& batch) {
        ++t_;
        for (int32_t y : batch)
            for (int k = 0; k < opt_.hashes; ++k) {
                const size_t h = slot(k, y);
                const double seen_gap = double(t_ - last_[size_t(k)][h]);
                double& b = gap_[size_t(k)][h];
                // Algorithm 2. B = 0 means "never seen": by default we start the slot at its first
                // gap, where the update from 0 would give alpha t (an estimate 1/alpha too high).
                if (b == 0.0 && opt_.first_gap_start) b = seen_gap;
                else b = (1.0 - opt_.alpha) * b + opt_.alpha * seen_gap;
                last_[size_t(k)][h] = t_;
            }
    }

    // The estimated gap of y at the current step: max_k B_k[h_k(y)] (Algorithm 3). With
    // stale_aware, each slot's gap is at least the time since it was last seen, max(B, t - A):
    // an item that stopped appearing then fades instead of keeping its old estimate forever.
    double gap(int32_t y) const {
        double g = 0.0;
        for (int k = 0; k < opt_.hashes; ++k) {
            const size_t h = slot(k, y);
            double b = gap_[size_t(k)][h];
            if (opt_.stale_aware) b = std::max(b, double(t_ - last_[size_t(k)][h]));
            g = std::max(g, b);
        }
        return g;
    }

    // p(y) = 1 / gap(y): the expected number of occurrences of y per batch. 0 for a never-seen y.
    double probability(int32_t y) const {
        const double g = gap(y);
        return g > 0.0 ? 1.0 / g : 0.0;
    }

    long step() const { return t_; }
    const FrequencyEstimatorOptions& options() const { return opt_; }

private:
    // h_k(y): a seeded 64-bit mix of the id, reduced to [0, H). Ids must be >= 0.
    size_t slot(int k, int32_t y) const {
        if (opt_.collision_free) {
            if (y < 0 || y >= opt_.buckets) arg_fail("StreamingFrequencyEstimator", "item id outside [0, H)");
            return size_t(y);
        }
        return size_t(splitmix64(uint64_t(uint32_t(y)) ^ salt_[size_t(k)]) % uint64_t(opt_.buckets));
    }

    FrequencyEstimatorOptions opt_;
    long t_ = 0;                                // the global step
    std::vector<std::vector<long>> last_;       // A: [hash][slot]
    std::vector<std::vector<double>> gap_;      // B: [hash][slot]; 0 = never seen
    std::vector<uint64_t> salt_;                // one per hash function
};

// ---- The paper's simulation (section 6.1): the estimator on a drifting stream -----------------
// M items, q_i ~ i^2 for steps_per_phase steps, then ~ (M-1-i)^2 (datasets::DriftingItemStream);
// estimators at several alphas (Figure 4), and 1, 2 or 4 hash functions sharing one budget of
// slots (Figure 5), all reading the same stream. The error of a window: the mean over its steps of
// the mean over the batch's items of |p_hat - B q| (datasets::replay_drifting_stream).
struct FrequencyOptions {
    int items = 1000;                     // M, as in the paper
    int steps_per_phase = 10000;          // q_i ~ i^2, then ~ (M-1-i)^2 (the paper's switch at 10k)
    int batch = 128;                      // B
    std::vector<double> alphas = {0.01, 0.05, 0.1};   // the paper's Figure 4
    std::vector<int> hash_counts = {1, 2, 4};         // the paper's Figure 5: H = total / m each
    int total_slots = 4000;               // the paper's Figure 5 budget
    int control_slots = 64000;            // the control: so many slots that collisions are rare
    double hash_alpha = 0.01;
    int window = 500;                     // steps per point of the error curves
    int recovery_window = 2000;           // "after the switch" = this many steps after it
    double steady_share = 0.2;            // "steady state" = the last 20% of the first phase
};

struct EstimatorTrace {
    std::string name;
    FrequencyEstimatorOptions options;
    std::vector<double> error;            // [window]: mean over the batch's items of |p_hat - B q|
    double steady = 0, after_switch = 0, mid_phase = 0;   // mid_phase: the control window, no switch
};
struct FrequencyResult {
    std::vector<long> window_end;
    std::vector<EstimatorTrace> alphas, hashes, control_hashes;
};

// Every estimator reads the same stream, so their differences within a world are not sampling noise.
inline FrequencyResult frequency_world(const FrequencyOptions& o, uint64_t seed) {
    FrequencyResult r;
    auto add = [&](std::vector<EstimatorTrace>& to, std::string name, FrequencyEstimatorOptions e) {
        e.seed = splitmix64(seed + 17), to.push_back({std::move(name), e, {}});
    };
    FrequencyEstimatorOptions exact;      // one slot per item: no collisions
    exact.buckets = o.items, exact.collision_free = true;
    for (double a : o.alphas) {
        char name[32];
        std::snprintf(name, sizeof name, "alpha %g", a);
        exact.alpha = a, add(r.alphas, name, exact);
    }
    for (int h : o.hash_counts)
        for (int total : {o.total_slots, o.control_slots}) {
            FrequencyEstimatorOptions e;
            e.buckets = total / h, e.hashes = h, e.alpha = o.hash_alpha;
            add(total == o.total_slots ? r.hashes : r.control_hashes,
                std::to_string(h) + " x " + std::to_string(total / h) + " slots", e);
        }
    std::vector<EstimatorTrace*> traces;
    for (auto* group : {&r.alphas, &r.hashes, &r.control_hashes})
        for (EstimatorTrace& tr : *group) traces.push_back(&tr);
    std::vector<StreamingFrequencyEstimator> est;
    for (EstimatorTrace* tr : traces) est.emplace_back(tr->options);
    datasets::DriftingStreamOptions so;
    so.num_items = o.items, so.steps_per_phase = o.steps_per_phase, so.batch_size = o.batch, so.seed = seed;
    const datasets::StreamErrors errors = datasets::replay_drifting_stream(so, est, o.window);
    r.window_end = errors.window_end;
    const long S = o.steps_per_phase, R = o.recovery_window;
    for (size_t e = 0; e < traces.size(); ++e) {
        traces[e]->error = errors.error[e];
        traces[e]->steady = errors.mean_between(e, long(S * (1.0 - o.steady_share)), S);
        traces[e]->after_switch = errors.mean_between(e, S, S + R);
        traces[e]->mid_phase = errors.mean_between(e, S / 2, S / 2 + R);   // as long a window, nothing switched
    }
    return r;
}

// ---- The two towers (eq. 1 with the normalisation of section 5.3) ---------------------------
// One tower turns an example's features into a unit vector of size k. Its input is the
// concatenation of dense features (a query vector, an item's genres; F numbers, possibly none)
// and a learned embedding of the example's id (possibly none):
//     tower(f, id) = l2_normalize(MLP([f, E[id]]))            (B, F + e) -> (B, k)
// The query tower gives u(x), the item tower v(y); the model's score is their inner product.
struct TowerOptions {
    int features = 0;     // F: dense input size (0 = none)
    int ids = 0;          // how many ids get an embedding (0 = no id embedding)
    int id_dim = 16;      // e: size of that embedding
    int hidden = 64;      // the MLP's hidden layer (ReLU)
    int out = 32;         // k: the size of u and v
};

struct Tower {
    TowerOptions opt;
    Embedding id_embedding;   // (ids, e), when opt.ids > 0
    MLP mlp;                  // (F + e) -> hidden -> k

    Tower() = default;
    Tower(const TowerOptions& o, Rng& rng) : opt(o) {
        if (o.features + (o.ids > 0 ? o.id_dim : 0) <= 0) arg_fail("Tower", "needs features or ids");
        if (o.ids > 0) id_embedding = Embedding(o.ids, o.id_dim, rng, 0.1f);
        MLPOptions m;
        m.sizes = {o.features + (o.ids > 0 ? o.id_dim : 0), o.hidden, o.out};
        mlp = MLP(m, rng);
    }

    // features (B, F) (ignored when F = 0), ids (B) (ignored without an id embedding) -> (B, k).
    Var operator()(const Var& features, const Ids& ids) {
        std::vector<Var> parts;
        if (opt.features > 0) parts.push_back(features);
        if (opt.ids > 0) parts.push_back(id_embedding(ids));                   // (B, e)
        const Var input = parts.size() == 1 ? parts[0] : concat(parts, 1);     // (B, F + e)
        return l2_normalize(mlp(input));                                       // ||out|| = 1
    }

    NamedParams named_parameters(const std::string& prefix) const {
        NamedParams p = mlp.named_parameters(prefix + "mlp.");
        if (opt.ids > 0) append(p, id_embedding.named_parameters(prefix + "ids."));
        return p;
    }
};

// The model: s(x, y) = <u(x), v(y)>, eq. 1, with both vectors of unit length (section 5.3), so
// s is a cosine in [-1, 1]. The temperature tau of section 5.3 divides s inside the loss
// (in_batch_softmax_loss's temperature): the logits the softmax sees are s / tau.
struct TwoTowerOptions {
    TowerOptions query, item;
};

struct TwoTower {
    Tower query_tower, item_tower;

    TwoTower(const TwoTowerOptions& o, Rng& rng) : query_tower(o.query, rng), item_tower(o.item, rng) {
        if (o.query.out != o.item.out) arg_fail("TwoTower", "both towers must output k numbers");
    }

    Var u(const Var& query_features, const Ids& query_ids) { return query_tower(query_features, query_ids); }
    Var v(const Var& item_features, const Ids& item_ids) { return item_tower(item_features, item_ids); }

    // The in-batch score matrix of eq. 4: row i is query i, column j is the batch's item j.
    // u (B, k), v (B, k) -> s (B, B), s_ij = <u_i, v_j>.
    static Var scores(const Var& u, const Var& v) { return matmul(u, v, false, true); }

    NamedParams named_parameters() const {
        NamedParams p = query_tower.named_parameters("query.");
        append(p, item_tower.named_parameters("item."));
        return p;
    }
};

// ---- Training (Algorithm 1): in-batch softmax, the batch's items feeding the estimator ---------
// Which log p_j the softmax subtracts from column j's logit (eq. 5): none, the streaming estimate
// (Algorithm 2 and 3 above, fed the batch's positives), or the true probability (our oracle arm).
enum class Correction { none, streaming, oracle };
inline const char* correction_name(Correction c) {
    return c == Correction::none ? "plain" : c == Correction::streaming ? "corrected (streaming)" : "corrected (oracle q)";
}

struct TrainOptions {
    int hidden = 64, out = 32, id_dim = 16;
    int batch = 128;
    int epochs = 6;
    double lr = 3e-3;
    float tau = 0.05f;                                   // temperature (section 5.3)
    FrequencyEstimatorOptions estimator = {0, 4, 0.01};  // H = 0 means items / 2; 4 hashes; alpha
    uint64_t seed = 42;
    bool verbose = false;
};

// Trains on d's training rows; the same initial model and batches for every correction.
// final_loss (optional): the last epoch's mean loss.
inline TwoTower train_two_tower(const datasets::RetrievalData& d, const TrainOptions& o, Correction corr,
                                double* final_loss = nullptr) {
    Rng rng(splitmix64(o.seed + 101));
    TwoTowerOptions mo;
    mo.query.features = d.query_features.dim(1);
    mo.query.ids = d.num_query_ids;
    mo.item.features = d.item_features.dim(1);
    mo.item.ids = d.num_items;
    for (TowerOptions* t : {&mo.query, &mo.item}) t->hidden = o.hidden, t->out = o.out, t->id_dim = o.id_dim;
    TwoTower model(mo, rng);
    Adam adam(vars_of(model.named_parameters()), o.lr);
    FrequencyEstimatorOptions eo = o.estimator;
    if (eo.buckets <= 0) eo.buckets = std::max(1, d.num_items / 2);   // H = N/2: collisions happen
    StreamingFrequencyEstimator estimator(eo);
    const Var queries = constant(d.query_features), items = constant(d.item_features);
    const bool has_query_features = d.query_features.dim(1) > 0;       // MovieLens queries are ids only
    Rng shuffle(splitmix64(o.seed + 202));
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        double loss_sum = 0.0;
        const auto batches = make_batches(d.train, o.batch, shuffle, true, true);
        for (const std::vector<int>& rows : batches) {
            Ids pos, qid;                                                // (B) positives, (B) query ids
            for (int r : rows) {
                pos.push_back(d.positive[size_t(r)]);
                if (d.num_query_ids) qid.push_back(d.query_ids[size_t(r)]);
            }
            estimator.observe(pos);
            Tensor log_p({int(pos.size())});                             // log p_j of column j (eq. 5)
            for (size_t j = 0; j < pos.size(); ++j)
                log_p[j] = float(corr == Correction::oracle ? std::log(d.item_prob[size_t(pos[j])])
                                                            : std::log(estimator.probability(pos[j])));
            const Ids row_ids(rows.begin(), rows.end());
            const Var u = model.u(has_query_features ? gather_rows(queries, row_ids) : Var(), qid);  // (B, k)
            const Var v = model.v(gather_rows(items, pos), pos);         // (B, k)
            InBatchSoftmaxOptions lo;
            lo.temperature = o.tau;
            lo.log_q = corr == Correction::none ? nullptr : &log_p;
            lo.item_ids = &pos;                                          // a repeat of the positive is no negative
            const Var loss = in_batch_softmax_loss(TwoTower::scores(u, v), lo);   // eqs. 6-7
            adam.zero_grad();
            backward(loss);
            adam.step();
            loss_sum += loss.item();
        }
        check_finite(loss_sum, epoch);
        if (final_loss) *final_loss = loss_sum / double(batches.size());
        if (o.verbose)
            std::fprintf(stderr, "  %-22s epoch %d/%d  loss %.4f\n", correction_name(corr), epoch + 1, o.epochs,
                         loss_sum / double(batches.size()));
    }
    return model;
}

// Serving: every item's v once, then s(x, y) = <u(x), v(y)> for the whole catalogue, test row by
// test row, ranked by datasets/retrieval.h's protocol (rank_catalogue: Recall@K for each K of ks,
// and the share of head items among the top ks[0]).
inline datasets::RankingScores serve_catalogue(TwoTower& model, const datasets::RetrievalData& d, const std::vector<int>& ks,
                                               double head_mass) {
    NoGrad no_grad;
    Ids all(size_t(d.num_items));
    for (int j = 0; j < d.num_items; ++j) all[size_t(j)] = j;
    const Var v_all = model.v(constant(d.item_features), all);          // (N, k)
    const Var queries = constant(d.query_features);
    auto scores = [&](size_t b0, int rows, std::vector<float>& s) {
        Ids test_rows, qid;
        for (int r = 0; r < rows; ++r) {
            test_rows.push_back(d.test[b0 + size_t(r)]);
            if (d.num_query_ids) qid.push_back(d.query_ids[size_t(test_rows.back())]);
        }
        const Var u = model.u(d.query_features.dim(1) > 0 ? gather_rows(queries, test_rows) : Var(), qid);  // (rows, k)
        s = TwoTower::scores(u, v_all).value().vec();                    // (rows, N)
    };
    return datasets::rank_catalogue(d, ks, head_mass, scores);
}

// One arm of the comparison: Recall@K for each K of ks (recall), the head share of the top ks[0]
// (head_share), and for a trained arm its last epoch's mean loss.
struct RetrievalResult : datasets::RankingScores {
    std::string name;
    double final_loss = 0;
};
// The paper's three arms on d, from the same initial model and batches: plain, corrected by the
// streaming estimates, corrected by the true q (our oracle arm); each trained, then served.
inline std::vector<RetrievalResult> train_and_serve(const datasets::RetrievalData& d, const TrainOptions& o, const std::vector<int>& ks,
                                                    double head_mass) {
    std::vector<RetrievalResult> r;
    for (Correction c : {Correction::none, Correction::streaming, Correction::oracle}) {
        double loss = 0;
        TwoTower model = train_two_tower(d, o, c, &loss);
        r.push_back({serve_catalogue(model, d, ks, head_mass), correction_name(c), loss});
    }
    return r;
}

}  // namespace ch72
}  // namespace minirec

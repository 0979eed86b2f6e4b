// Chapter 65: correcting predicted CTRs after negative down-sampling. The correction
// q = p / (p + (1 - p) / w) and its inverse, and the two CTR models the chapter trains on sampled
// data: a logistic regression on one-hot features and a small DNN over embeddings, their training and scores.
// Deliberately left out: re-weighting the loss instead of correcting (see the book's exercises),
// position or time features, and any learned recalibration (Platt scaling, isotonic regression).
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/ops.h"
#include "core/rng.h"
#include "datasets/ch65_sampled_logs.h"
#include "nn/calibration.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch65 {  // each chapter's model in its own namespace: ch64 and ch65 both have a LogisticRegression

// ---- The correction ---------------------------------------------------------------------------
// Keep every positive and each negative with probability w (0 < w <= 1). For a feature vector x
// with click probability p = P(y = 1 | x), the sampled data has, per impression of x,
//     p expected positives and (1 - p) w expected negatives,
// so a model fitted to it learns the apparent CTR
//     p' = p / (p + (1 - p) w)                                                  (sampled_ctr)
// Solving for p gives the correction, with q the corrected CTR:
//     p' (p + (1 - p) w) = p   =>   p' w = p (1 - p' + p' w)
//     q = p' w / (1 - p' + p' w) = p' / (p' + (1 - p') / w)                      (calibrate_ctr)
// In odds the two are one line: odds' = odds / w, so logit q = logit p' + log w. Sampling only
// shifts every logit by the same -log w, which is why it changes no ranking by pCTR alone (AUC)
// but does change rankings by pCTR x price.
inline double sampled_ctr(double p, double w) { return p / (p + (1.0 - p) * w); }
inline double calibrate_ctr(double p, double w) { return p / (p + (1.0 - p) / w); }

// The same on a vector of predictions (the tutorial corrects a whole test set at once).
inline std::vector<float> calibrate_ctr(const std::vector<float>& p, double w) {
    std::vector<float> q(p.size());
    for (size_t i = 0; i < p.size(); ++i) q[i] = float(calibrate_ctr(p[i], w));
    return q;
}

// ---- Ads and revenue --------------------------------------------------------------------------
// The chapter's three ads: 50:30:20 of impressions, click rates 30%, 20%, 20%, cost per click 6, 8, 3.
struct Ads {
    std::vector<double> share = {0.5, 0.3, 0.2};
    std::vector<double> ctr = {0.3, 0.2, 0.2};
    std::vector<double> cpc = {6.0, 8.0, 3.0};
};
const char* const kAdNames[] = {"A", "B", "C"};

// Ads ordered by expected revenue per impression, CTR x CPC, best first: "A > B > C".
inline std::string revenue_order(const std::vector<double>& ctr, const std::vector<double>& cpc) {
    std::vector<int> idx(ctr.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = int(i);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return ctr[a] * cpc[a] > ctr[b] * cpc[b]; });
    std::string s;
    for (size_t i = 0; i < idx.size(); ++i) s += (i ? " > " : "") + std::string(kAdNames[idx[i]]);
    return s;
}

// ---- The worked example -------------------------------------------------------------------------
// Per ad: the true CTR, the apparent CTR once negatives are kept at rate w, and that CTR corrected.
struct ExampleRow {
    double share, ctr, cpc;
    double sampled, corrected;                               // CTRs
    double revenue, revenue_sampled, revenue_corrected;      // CTR x CPC per impression
};
struct WorkedExample {
    double w = 0.0;
    double positives = 0.0, negatives = 0.0;                 // shares of all impressions before sampling
    std::vector<ExampleRow> rows;
    std::string order, order_sampled, order_corrected;
};

inline WorkedExample worked_example(const Ads& ads = {}, double w = 1.0 / 3.0) {
    WorkedExample ex;
    ex.w = w;
    std::vector<double> sampled, corrected;
    for (size_t k = 0; k < ads.ctr.size(); ++k) {
        ExampleRow r;
        r.share = ads.share[k], r.ctr = ads.ctr[k], r.cpc = ads.cpc[k];
        r.sampled = sampled_ctr(r.ctr, w);                   // positives kept, negatives x w
        r.corrected = calibrate_ctr(r.sampled, w);           // back to r.ctr
        r.revenue = r.ctr * r.cpc;
        r.revenue_sampled = r.sampled * r.cpc;
        r.revenue_corrected = r.corrected * r.cpc;
        ex.positives += r.share * r.ctr;
        ex.negatives += r.share * (1.0 - r.ctr);
        ex.rows.push_back(r);
        sampled.push_back(r.sampled), corrected.push_back(r.corrected);
    }
    ex.order = revenue_order(ads.ctr, ads.cpc);
    ex.order_sampled = revenue_order(sampled, ads.cpc);
    ex.order_corrected = revenue_order(corrected, ads.cpc);
    return ex;
}

// ---- Inputs -----------------------------------------------------------------------------------
// A batch of B impressions with F categorical fields (ids already offset into one id space of
// size num_ids, so one table serves every field), a multi-hot tag field and one numeric field.
struct CtrBatch {
    Ids cat;                        // (B * F): cat[b * F + f]
    int fields = 0;                 // F
    std::vector<int> tag_offsets;   // (B + 1): the tags of row b are tag_ids[tag_offsets[b] .. [b+1])
    Ids tag_ids;
    Tensor numeric;                 // (B, 1)
    int rows() const { return numeric.dim(0); }
};

// ---- Logistic regression on one-hot features -------------------------------------------------
//   logit = b + sum_f w_f[x_f] + mean_{t in tags} w_tag[t] + w_num z,   pCTR = sigmoid(logit)
// A one-dimensional embedding is a one-hot weight: row i of the (num_ids, 1) table is w[i].
struct LogisticRegression {
    Embedding weights;              // (num_ids, 1)
    EmbeddingBag tag_weights;       // (num_tags, 1), mean over a row's tags
    Linear numeric;                 // (1) -> (1): w_num and the bias b

    LogisticRegression(int num_ids, int num_tags, Rng& rng)
        : weights(num_ids, 1, rng), tag_weights(num_tags, 1, rng), numeric(1, 1, rng) {}

    Var forward(const CtrBatch& x) const {                         // -> logits (B, 1)
        const int B = x.rows();
        Var first = sum(weights(x.cat, {B, x.fields}), 1);         // (B, F, 1) -> (B, 1)
        return first + tag_weights(x.tag_ids, x.tag_offsets) + numeric(constant(x.numeric));
    }
    NamedParams named_parameters() const {
        NamedParams p = weights.named_parameters("w.");
        append(p, tag_weights.named_parameters("tags."));
        append(p, numeric.named_parameters("numeric."));
        return p;
    }
};

// ---- A small DNN over embeddings ---------------------------------------------------------------
//   h = [e_1(x_1), ..., e_F(x_F), mean_{t in tags} e_tag(t), z]   (B, (F + 1) D + 1)
//   logit = MLP(h),  hidden sizes {64, 32} with ReLU
// It can learn the planted feature interactions that logistic regression cannot.
struct SmallDNN {
    Embedding embeddings;           // (num_ids, D)
    EmbeddingBag tag_embeddings;    // (num_tags, D)
    MLP mlp;                        // ((F + 1) D + 1) -> 64 -> 32 -> 1

    SmallDNN(int num_ids, int num_tags, int fields, int dim, Rng& rng)
        : embeddings(num_ids, dim, rng, 0.1f), tag_embeddings(num_tags, dim, rng, BagMode::mean, 0.1f) {
        MLPOptions o;
        o.sizes = {(fields + 1) * dim + 1, 64, 32, 1};
        mlp = MLP(o, rng);
    }

    Var forward(const CtrBatch& x) {                               // -> logits (B, 1)
        const int B = x.rows();
        Var e = reshape(embeddings(x.cat, {B, x.fields}), {B, -1});  // (B, F, D) -> (B, F D)
        Var t = tag_embeddings(x.tag_ids, x.tag_offsets);          // (B, D)
        return mlp(concat({e, t, constant(x.numeric)}, 1));
    }
    NamedParams named_parameters() const {
        NamedParams p = embeddings.named_parameters("emb.");
        append(p, tag_embeddings.named_parameters("tags."));
        append(p, mlp.named_parameters("mlp."));
        return p;
    }
};

// ---- The data as model input ------------------------------------------------------------------
using Impressions = datasets::AdImpressions;

// The rows `rows` of the data as a model input.
inline CtrBatch make_batch(const Impressions& d, const std::vector<int>& rows) {
    CtrBatch x;
    x.fields = d.fields;
    const int F0 = d.ctx.num_fields, B = int(rows.size());
    x.numeric = Tensor({B, 1});
    x.tag_offsets.push_back(0);
    for (int b = 0; b < B; ++b) {
        const size_t r = size_t(rows[size_t(b)]);
        for (int f = 0; f < F0; ++f) x.cat.push_back(d.offsets[size_t(f)] + d.ctx.cat[r * F0 + size_t(f)]);
        x.cat.push_back(d.offsets[size_t(F0)] + d.ad[r]);
        for (int t = d.ctx.tag_offsets[r]; t < d.ctx.tag_offsets[r + 1]; ++t) x.tag_ids.push_back(d.ctx.tag_ids[size_t(t)]);
        x.tag_offsets.push_back(int(x.tag_ids.size()));
        x.numeric[size_t(b)] = d.ctx.numeric[r];
    }
    return x;
}

// Impressions (datasets/ad_impressions.h): context fields plus an ad field (A, B, C drawn 50:30:20)
// whose mean true CTRs are the example's 30%, 20%, 20% (positives to negatives 1:3 overall).
inline Impressions make_impressions(int n, const Ads& ads, uint64_t seed) {
    datasets::CtrOptions co;                                 // the context features
    co.n = n;
    co.seed = seed;
    return datasets::ad_impressions(co, ads.share, ads.ctr);
}

// pCTR = sigmoid(logit) of every row of `rows`, in chunks, without a graph.
template <class Model>
std::vector<float> predict(Model& model, const Impressions& d, const std::vector<int>& rows) {
    NoGrad no_grad;
    std::vector<float> p;
    for (size_t s = 0; s < rows.size(); s += 4096) {
        const std::vector<int> chunk(rows.begin() + long(s), rows.begin() + long(std::min(rows.size(), s + 4096)));
        const Tensor z = sigmoid(model.forward(make_batch(d, chunk))).value();
        for (size_t i = 0; i < z.size(); ++i) p.push_back(z[i]);
    }
    return p;
}

// ---- Training on the sampled log -----------------------------------------------------------------
// The method trains on the sampled log as on any log: the plain loss, no re-weighting; the
// correction comes afterwards. Shuffled batches, forward, loss, backward, Adam step. The learning
// rate decays to 0 on a cosine, so the final bias does not jitter with the last batches (calibration
// is a statement about averages, and a noisy bias moves every prediction).
template <class Model>
void train_on_sampled_log(Model& model, const Impressions& d, const std::vector<int>& rows, int epochs, int batch, double lr,
                          Rng& rng) {
    Adam adam(vars_of(model.named_parameters()), lr);
    const long steps_per_epoch = (long(rows.size()) + batch - 1) / batch;
    const LrSchedule schedule = LrSchedule::cosine(lr, steps_per_epoch * epochs);
    long step = 0;
    for (int epoch = 0; epoch < epochs; ++epoch)
        for (const std::vector<int>& batch_rows : make_batches(rows, batch, rng)) {
            const Tensor y({int(batch_rows.size()), 1}, datasets::labels_of(d, batch_rows));
            const Var loss = bce_with_logits(model.forward(make_batch(d, batch_rows)), y);  // the plain loss
            adam.zero_grad();
            backward(loss);
            adam.lr = schedule.at(step);
            adam.step();
            check_finite(loss.item(), ++step);
        }
}

// Negative down-sampling: every positive of `rows` is kept, each negative of ad k with probability
// w_k: one rate w for every ad (uniform, what the correction assumes), or one per ad (the control).
inline std::vector<int> downsample_negatives(const Impressions& d, const std::vector<int>& rows,
                                             const std::vector<double>& w_by_ad, Rng& rng) {
    std::vector<int> kept;
    for (int r : rows)
        if (d.labels[size_t(r)] > 0.5f || rng.uniform_double() < w_by_ad[size_t(d.ad[size_t(r)])]) kept.push_back(r);
    return kept;
}
inline std::vector<int> downsample_negatives(const Impressions& d, const std::vector<int>& rows, double w, Rng& rng) {
    const int ads = d.num_ids - d.offsets.back();
    return downsample_negatives(d, rows, std::vector<double>(size_t(ads), w), rng);
}

// What a perfect model of data whose negatives of ad k were kept at rate w_k predicts per ad, over
// `rows`: the mean of sampled_ctr(true p, w_k) over the ad's rows. Not sampled_ctr(mean p, w_k) as in
// the worked example: within an ad the CTRs vary, and sampled_ctr is concave.
inline std::vector<double> perfect_sampled_ad_ctr(const Impressions& d, const std::vector<int>& rows,
                                                  const std::vector<double>& w_by_ad) {
    std::vector<double> sum(w_by_ad.size(), 0.0), count(w_by_ad.size(), 0.0);
    for (int r : rows) count[size_t(d.ad[size_t(r)])] += 1;
    for (int r : rows) {
        const size_t k = size_t(d.ad[size_t(r)]);
        sum[k] += sampled_ctr(d.prob[size_t(r)], w_by_ad[k]) / count[k];
    }
    return sum;
}

// Rates proportional to `weights` per ad that keep the same overall fraction w of the negatives of
// `rows`: the sum over ads of w_k x (negatives of ad k) is w x (all negatives).
inline std::vector<double> uneven_rates(const Impressions& d, const std::vector<int>& rows, double w,
                                        const std::vector<double>& weights) {
    double all = 0.0, weighted = 0.0;
    for (int r : rows)
        if (d.labels[size_t(r)] < 0.5f) all += 1.0, weighted += weights[size_t(d.ad[size_t(r)])];
    std::vector<double> rates;
    for (double x : weights) rates.push_back(std::min(1.0, w * x * all / weighted));
    return rates;
}

// ---- Scores on the unsampled test set ----------------------------------------------------------
// What predictions p of the test rows score against their clicks y: ranking, calibration, and the
// mean prediction overall and per ad (the ads' pCTR, which prices their revenue).
struct AdScores {
    double auc = 0.0, logloss = 0.0, ece = 0.0;
    double ratio = 0.0;                  // mean prediction / observed CTR
    std::vector<double> ad_ctr;          // mean prediction per ad
    std::vector<ReliabilityBin> bins;    // the reliability diagram, `bins` equal-width bins
};
inline AdScores score(const Impressions& d, const std::vector<int>& test, const std::vector<float>& y,
                      const std::vector<float>& p, int bins) {
    AdScores s;
    s.auc = auc(p, y), s.logloss = logloss(p, y), s.ece = expected_calibration_error(p, y, bins);
    const double clicks = std::accumulate(y.begin(), y.end(), 0.0);   // mean pCTR / CTR = sum of pCTR / clicks
    s.ratio = std::accumulate(p.begin(), p.end(), 0.0) / clicks;
    s.ad_ctr = datasets::mean_by_ad(d, test, p);
    s.bins = reliability_bins(p, y, bins);
    return s;
}

// The data and the truth on the test sets as means over the worlds: the CTR before sampling, the
// observed CTR per ad, and what the true CTRs score (the best any model can do).
struct TruthMeans {
    double train_ctr = 0.0, test_ctr = 0.0;
    std::vector<double> test_ad_ctr;
    double auc = 0.0, logloss = 0.0, ece = 0.0;
    // Adds one world's share (1 / worlds) to every number; ECE over `bins` equal-width bins.
    void add(const Impressions& d, const datasets::AdWorld& s, int bins, double worlds) {
        const int n_train = int(s.train.size()), n_test = int(s.test.size());
        for (int r : s.train) train_ctr += d.labels[size_t(r)] / n_train / worlds;
        for (int r : s.test) test_ctr += d.labels[size_t(r)] / n_test / worlds;
        datasets::add_share(test_ad_ctr, datasets::mean_by_ad(d, s.test, s.test_labels), worlds);
        const AdScores oracle = score(d, s.test, s.test_labels, s.test_prob, bins);
        auc += oracle.auc / worlds, logloss += oracle.logloss / worlds, ece += oracle.ece / worlds;
    }
};

}  // namespace ch65
}  // namespace minirec

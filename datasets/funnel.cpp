// The purchase funnel with calibrated stage rates. Deliberately left out: delayed feedback.
#include "datasets/funnel.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/metrics.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

namespace {

// The intercept b with mean_r sigmoid(b + s[r]) = target, by bisection (the mean is increasing
// in b). Calibrating on the generated rows makes the mean true probability hit the target exactly.
double calibrate(const std::vector<double>& s, double target) {
    double lo = -40.0, hi = 40.0;
    for (int it = 0; it < 100; ++it) {
        double mid = 0.5 * (lo + hi), mean = 0.0;
        for (double v : s) mean += sigmoid(mid + v);
        mean /= static_cast<double>(s.size());
        (mean < target ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

// A random direction of length `scale`, so that <w, x> with x ~ N(0, I) has std `scale`.
std::vector<double> direction(int d, double scale, Rng& rng) {
    std::vector<double> w(d);
    double n = 0.0;
    for (double& v : w) v = rng.normal(), n += v * v;
    for (double& v : w) v *= scale / std::sqrt(n);
    return w;
}

double dot(const std::vector<double>& w, const float* x) {
    double s = 0.0;
    for (size_t i = 0; i < w.size(); ++i) s += w[i] * x[i];
    return s;
}

bool rate_ok(double r) { return r > 0.0 && r < 1.0; }

}  // namespace

FunnelData funnel(const FunnelOptions& o) {
    if (o.n < 1 || o.dim < 1 || o.num_items < 1) arg_fail("funnel", "n, dim and num_items must be >= 1");
    if (!rate_ok(o.ctr) || !rate_ok(o.daction_rate) || !rate_ok(o.buy_after_daction) || !rate_ok(o.buy_after_oaction))
        arg_fail("funnel", "target rates must be in (0, 1)");
    if (o.share < 0 || o.share > 1) arg_fail("funnel", "share must be in [0, 1]");
    Rng rng(o.seed);
    const int n = o.n, d = o.dim;
    std::vector<double> shared = direction(d, o.signal, rng);
    std::vector<std::vector<double>> own(4), item_effect(4);
    for (int s = 0; s < 4; ++s) own[s] = direction(d, o.signal, rng);
    for (int s = 0; s < 4; ++s)
        for (int i = 0; i < o.num_items; ++i) item_effect[s].push_back(0.3 * rng.normal());

    FunnelData f;
    f.x = Tensor::normal({n, d}, rng);
    Discrete items(zipf_weights(o.num_items, 1.0));
    f.item.resize(n);
    for (int32_t& it : f.item) it = items.sample(rng);
    // Stage scores s_stage(x) for the four stages: click, d_action, buy after d, buy after o.
    std::vector<std::vector<double>> score(4, std::vector<double>(n));
    for (int r = 0; r < n; ++r) {
        const float* x = f.x.data() + size_t(r) * d;
        double common = dot(shared, x);
        for (int s = 0; s < 4; ++s)
            score[s][r] = o.share * common + (1.0 - o.share) * dot(own[s], x) + item_effect[s][f.item[r]];
    }
    const double b[4] = {calibrate(score[0], o.ctr), calibrate(score[1], o.daction_rate),
                         calibrate(score[2], o.buy_after_daction), calibrate(score[3], o.buy_after_oaction)};
    f.intercept_click = b[0], f.intercept_daction = b[1], f.intercept_buy_d = b[2], f.intercept_buy_o = b[3];

    for (int r = 0; r < n; ++r) {
        double pc = sigmoid(b[0] + score[0][r]), pd = sigmoid(b[1] + score[1][r]);
        double pbd = sigmoid(b[2] + score[2][r]), pbo = sigmoid(b[3] + score[3][r]);
        // We draw every stage's coin for every row, so that the labels of one stage do not
        // shift the random stream of the others.
        bool c = rng.uniform_double() < pc, da = rng.uniform_double() < pd;
        bool bd = rng.uniform_double() < pbd, bo = rng.uniform_double() < pbo;
        bool dact = c && da, oact = c && !da, buy = (dact && bd) || (oact && bo);
        f.click.push_back(c), f.daction.push_back(dact), f.oaction.push_back(oact), f.purchase.push_back(buy);
        f.p_click.push_back(float(pc)), f.p_daction.push_back(float(pd));
        f.p_buy_d.push_back(float(pbd)), f.p_buy_o.push_back(float(pbo));
        f.p_purchase.push_back(float(pc * (pd * pbd + (1.0 - pd) * pbo)));
    }
    return f;
}

FunnelOptions scaled_funnel(FunnelOptions fo, double scale, bool control) {
    if (control) fo.buy_after_daction = fo.buy_after_oaction =
        fo.daction_rate * fo.buy_after_daction + (1 - fo.daction_rate) * fo.buy_after_oaction;
    fo.buy_after_daction *= scale, fo.buy_after_oaction *= scale;
    return fo;
}

FunnelBatch funnel_batch(const FunnelData& f, const std::vector<int>& rows) {
    const int b = int(rows.size()), d = f.x.dim(1);
    FunnelBatch out{Tensor({b, d}), Tensor({b, 1}), Tensor({b, 1}), Tensor({b, 1}), Ids(size_t(b))};
    for (int i = 0; i < b; ++i) {
        const size_t r = size_t(rows[size_t(i)]);
        std::copy(f.x.data() + r * d, f.x.data() + (r + 1) * d, out.x.data() + size_t(i) * d);
        out.click[size_t(i)] = f.click[r], out.daction[size_t(i)] = f.daction[r];
        out.purchase[size_t(i)] = f.purchase[r], out.item[size_t(i)] = f.item[r];
    }
    return out;
}

FunnelScores score_funnel(const FunnelData& f, const std::vector<int>& rows, const std::vector<float>& p_cvr,
                          const std::vector<float>& p_ctcvr, const std::vector<float>& p_ctr) {
    const bool real = f.p_purchase.empty();
    std::vector<float> cvr, true_cvr, true_ctcvr, click;
    double pred = 0.0, truth = 0.0;
    for (size_t i = 0; i < rows.size(); ++i) {
        const size_t r = size_t(rows[i]);
        const float t = real ? f.purchase[r] : f.p_daction[r] * f.p_buy_d[r] + (1.0f - f.p_daction[r]) * f.p_buy_o[r];
        if (!real || f.click[r] > 0.5f) cvr.push_back(p_cvr[i]), true_cvr.push_back(t), pred += cvr.back(), truth += t;
        true_ctcvr.push_back(real ? f.purchase[r] : f.p_purchase[r]), click.push_back(f.click[r]);
    }
    FunnelScores s;
    s.cvr_auc = expected_auc(cvr, true_cvr);                  // with 0/1 labels: the ordinary AUC
    if (!p_ctcvr.empty()) s.ctcvr_auc = expected_auc(p_ctcvr, true_ctcvr), s.ctr_auc = real ? auc(p_ctr, click) : NAN;
    s.cvr_ratio = pred / truth;
    return s;
}

FunnelRows funnel_rows(const FunnelData& f, int n_train, int first_test) {
    FunnelRows r;
    for (int k = 0; k < int(f.click.size()); ++k) (k < n_train ? r.train : r.test).push_back(k);
    r.test.erase(r.test.begin(), r.test.begin() + (first_test - n_train));
    return r;
}

std::vector<int> training_rows(const FunnelData& f, const std::vector<int>& rows, bool clicked_only) {
    std::vector<int> out;
    for (int r : rows)
        if (!clicked_only || f.click[size_t(r)] > 0.5f) out.push_back(r);
    return out;
}

void add_counts(FunnelCounts& c, const FunnelData& f, const std::vector<int>& rows, int worlds) {
    for (int k : rows) {
        c.clicks += f.click[size_t(k)] / double(worlds);
        c.dactions += f.daction[size_t(k)] / double(worlds);
        c.purchases += f.purchase[size_t(k)] / double(worlds);
    }
}

}  // namespace datasets
}  // namespace minirec

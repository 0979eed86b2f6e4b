// The metrics of metrics.h. AUC sorts once and assigns tie-averaged ranks; GAUC groups by user
// with one more sort; the ranking metrics walk the first K entries of a list once.
#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_set>

namespace minirec {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_lengths(const char* op, size_t a, size_t b) {
    if (a != b) arg_fail(op, "lengths differ: " + std::to_string(a) + " scores vs " + std::to_string(b) + " labels");
}

// A NaN score would break the sort's ordering (undefined behaviour), so we refuse it.
void check_scores(const char* op, const std::vector<float>& scores) {
    for (size_t i = 0; i < scores.size(); ++i)
        if (std::isnan(scores[i])) arg_fail(op, "score " + std::to_string(i) + " is NaN");
}

// AUC over the entries idx[0..n) of (scores, labels), via the rank sum of the positives.
double auc_of(const std::vector<float>& scores, const std::vector<float>& labels, std::vector<int>& idx) {
    std::sort(idx.begin(), idx.end(), [&](int a, int b) { return scores[a] < scores[b]; });
    double pos = 0.0, rank_sum = 0.0;
    const size_t n = idx.size();
    for (size_t i = 0; i < n;) {
        // Entries i..j-1 tie: each gets the average of the 1-based ranks i+1..j.
        size_t j = i;
        double pos_in_group = 0.0;
        while (j < n && scores[idx[j]] == scores[idx[i]]) pos_in_group += labels[idx[j++]] > 0.5f ? 1.0 : 0.0;
        rank_sum += pos_in_group * 0.5 * static_cast<double>(i + 1 + j);
        pos += pos_in_group;
        i = j;
    }
    const double neg = static_cast<double>(n) - pos;
    if (pos == 0.0 || neg == 0.0) return kNaN;
    return (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg);
}

// Throws unless ranked holds distinct ids and k >= 1; returns the relevant ids as a set.
std::unordered_set<int32_t> prepare(const char* op, const Ids& ranked, const Ids& relevant, int k) {
    if (k < 1) arg_fail(op, "k must be >= 1, got " + std::to_string(k));
    std::unordered_set<int32_t> seen;
    for (int32_t id : ranked)
        if (!seen.insert(id).second) arg_fail(op, "ranked list holds id " + std::to_string(id) + " twice");
    return std::unordered_set<int32_t>(relevant.begin(), relevant.end());
}

// Number of relevant ids among the first min(k, |ranked|) entries.
int hits_in_top(const Ids& ranked, const std::unordered_set<int32_t>& rel, int k) {
    const size_t end = std::min(ranked.size(), static_cast<size_t>(k));
    int hits = 0;
    for (size_t i = 0; i < end; ++i) hits += rel.count(ranked[i]) ? 1 : 0;
    return hits;
}

}  // namespace

double expected_auc(const std::vector<float>& s, const std::vector<float>& p) {
    std::vector<size_t> order(s.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] < s[b]; });
    double num = 0.0, neg_below = 0.0, pos_total = 0.0, neg_total = 0.0, self = 0.0;
    for (size_t g = 0; g < order.size();) {           // one group of equal scores at a time
        size_t e = g;
        double pos = 0.0, neg = 0.0, own = 0.0;
        for (; e < order.size() && s[order[e]] == s[order[g]]; ++e) {
            const double pi = p[order[e]];
            pos += pi, neg += 1.0 - pi, own += pi * (1.0 - pi);
        }
        num += pos * neg_below + 0.5 * (pos * neg - own);   // below the group, then ties within it
        neg_below += neg, pos_total += pos, neg_total += neg, self += own;
        g = e;
    }
    return num / (pos_total * neg_total - self);
}

double auc(const std::vector<float>& scores, const std::vector<float>& labels) {
    check_lengths("auc", scores.size(), labels.size());
    check_scores("auc", scores);
    std::vector<int> idx(scores.size());
    std::iota(idx.begin(), idx.end(), 0);
    return auc_of(scores, labels, idx);
}

double gauc(const Ids& user_ids, const std::vector<float>& scores, const std::vector<float>& labels) {
    check_lengths("gauc", scores.size(), labels.size());
    check_lengths("gauc", user_ids.size(), labels.size());
    check_scores("gauc", scores);
    // Group the impressions by user with one stable sort of the indices.
    std::vector<int> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return user_ids[a] < user_ids[b]; });
    double weighted = 0.0, weight = 0.0;
    std::vector<int> group;
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        group.clear();
        while (j < order.size() && user_ids[order[j]] == user_ids[order[i]]) group.push_back(order[j++]);
        const double a = auc_of(scores, labels, group);
        if (!std::isnan(a)) {  // one-class users have no AUC: skipped
            weighted += static_cast<double>(group.size()) * a;
            weight += static_cast<double>(group.size());
        }
        i = j;
    }
    return weight > 0.0 ? weighted / weight : kNaN;
}

double logloss(const std::vector<float>& probs, const std::vector<float>& labels, double eps) {
    check_lengths("logloss", probs.size(), labels.size());
    if (probs.empty()) return kNaN;
    double s = 0.0;
    for (size_t i = 0; i < probs.size(); ++i) {
        const double p = std::min(std::max(static_cast<double>(probs[i]), eps), 1.0 - eps);
        const double y = labels[i];
        s -= y * std::log(p) + (1.0 - y) * std::log(1.0 - p);
    }
    return s / static_cast<double>(probs.size());
}

double rmse(const std::vector<float>& pred, const std::vector<float>& target) {
    check_lengths("rmse", pred.size(), target.size());
    if (pred.empty()) return kNaN;
    double s = 0.0;
    for (size_t i = 0; i < pred.size(); ++i) {
        const double d = static_cast<double>(pred[i]) - target[i];
        s += d * d;
    }
    return std::sqrt(s / static_cast<double>(pred.size()));
}

double hit_rate_at_k(const Ids& ranked, const Ids& relevant, int k) {
    const auto rel = prepare("hit_rate_at_k", ranked, relevant, k);
    if (rel.empty()) return kNaN;
    return hits_in_top(ranked, rel, k) > 0 ? 1.0 : 0.0;
}

double precision_at_k(const Ids& ranked, const Ids& relevant, int k) {
    const auto rel = prepare("precision_at_k", ranked, relevant, k);
    if (rel.empty()) return kNaN;
    return hits_in_top(ranked, rel, k) / static_cast<double>(k);
}

double recall_at_k(const Ids& ranked, const Ids& relevant, int k) {
    const auto rel = prepare("recall_at_k", ranked, relevant, k);
    if (rel.empty()) return kNaN;
    return hits_in_top(ranked, rel, k) / static_cast<double>(rel.size());
}

double ndcg_at_k(const Ids& ranked, const Ids& relevant, int k) {
    const auto rel = prepare("ndcg_at_k", ranked, relevant, k);
    if (rel.empty()) return kNaN;
    const size_t end = std::min(ranked.size(), static_cast<size_t>(k));
    double dcg = 0.0, idcg = 0.0;
    for (size_t i = 0; i < end; ++i)
        if (rel.count(ranked[i])) dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    const size_t ideal = std::min(rel.size(), static_cast<size_t>(k));
    for (size_t i = 0; i < ideal; ++i) idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    return dcg / idcg;
}

double average_precision_at_k(const Ids& ranked, const Ids& relevant, int k) {
    const auto rel = prepare("average_precision_at_k", ranked, relevant, k);
    if (rel.empty()) return kNaN;
    const size_t end = std::min(ranked.size(), static_cast<size_t>(k));
    double sum = 0.0;
    int hits = 0;
    for (size_t i = 0; i < end; ++i) {
        if (!rel.count(ranked[i])) continue;
        ++hits;
        sum += hits / static_cast<double>(i + 1);  // Precision@(i+1) at each hit
    }
    return sum / static_cast<double>(std::min(rel.size(), static_cast<size_t>(k)));
}

double reciprocal_rank(const Ids& ranked, const Ids& relevant) {
    const auto rel = prepare("reciprocal_rank", ranked, relevant, 1);
    if (rel.empty()) return kNaN;
    for (size_t i = 0; i < ranked.size(); ++i)
        if (rel.count(ranked[i])) return 1.0 / static_cast<double>(i + 1);
    return 0.0;
}

Ids top_k(const std::vector<float>& scores, int k) {
    if (k < 0) arg_fail("top_k", "k must be >= 0, got " + std::to_string(k));
    check_scores("top_k", scores);
    Ids idx(scores.size());
    std::iota(idx.begin(), idx.end(), 0);
    const size_t kk = std::min(idx.size(), static_cast<size_t>(k));
    // Higher score first, then smaller index: a strict total order, so the result is unique.
    auto better = [&](int32_t a, int32_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); };
    std::partial_sort(idx.begin(), idx.begin() + static_cast<long>(kk), idx.end(), better);
    idx.resize(kk);
    return idx;
}

int rank_of(const std::vector<float>& scores, int target) {
    if (target < 0 || static_cast<size_t>(target) >= scores.size())
        arg_fail("rank_of", "target " + std::to_string(target) + " outside [0, " + std::to_string(scores.size()) + ")");
    check_scores("rank_of", scores);
    const float t = scores[target];
    int rank = 0;
    for (size_t i = 0; i < scores.size(); ++i)
        if (static_cast<int>(i) != target && scores[i] >= t) ++rank;  // ties count against us
    return rank;
}

double nan_mean(const std::vector<double>& values) {
    double s = 0.0;
    size_t n = 0;
    for (double v : values)
        if (!std::isnan(v)) s += v, ++n;
    return n ? s / static_cast<double>(n) : kNaN;
}

// Sorted v and position p = q (n - 1): the value at p, interpolated between v[floor p] and v[ceil p].
double quantile(std::vector<double> values, double q) {
    if (!(q >= 0.0 && q <= 1.0)) arg_fail("quantile", "q must be in [0, 1]");
    if (values.empty()) return kNaN;
    std::sort(values.begin(), values.end());
    const double pos = q * static_cast<double>(values.size() - 1);
    const size_t lo = static_cast<size_t>(pos);
    const size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

}  // namespace minirec

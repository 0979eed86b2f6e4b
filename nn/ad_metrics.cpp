// The ad metrics of ad_metrics.h. COEC is two sums; Kendall's tau walks all pairs; csAUC sorts
// once for the positive-negative pairs and sweeps the positives by bid with a Fenwick tree.
#include "nn/ad_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/error.h"

namespace minirec {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_same_length(const char* op, size_t a, size_t b, const char* what) {
    if (a != b) arg_fail(op, std::string("lengths differ: ") + std::to_string(a) + " vs " + std::to_string(b) + " " + what);
}

// Prefix sums over positions 0..n-1 with point updates, both O(log n) (Fenwick 1994).
struct Fenwick {
    std::vector<double> t;
    explicit Fenwick(size_t n) : t(n + 1, 0.0) {}
    void add(size_t i, double v) {
        for (++i; i < t.size(); i += i & (~i + 1)) t[i] += v;
    }
    double prefix(size_t end) const {  // sum of positions [0, end)
        double s = 0.0;
        for (size_t i = end; i > 0; i -= i & (~i + 1)) s += t[i];
        return s;
    }
};

}  // namespace

double coec(const std::vector<float>& clicks, const std::vector<float>& expected_ctr) {
    check_same_length("coec", clicks.size(), expected_ctr.size(), "expected CTRs");
    double c = 0.0, ec = 0.0;
    for (size_t i = 0; i < clicks.size(); ++i) {
        if (!(expected_ctr[i] >= 0.0f)) arg_fail("coec", "expected CTR " + std::to_string(i) + " is negative or NaN");
        c += clicks[i];
        ec += expected_ctr[i];
    }
    return ec > 0.0 ? c / ec : kNaN;
}

std::vector<double> coec_by_group(const Ids& group, const std::vector<float>& clicks,
                                  const std::vector<float>& expected_ctr, int num_groups) {
    check_same_length("coec_by_group", group.size(), clicks.size(), "clicks");
    check_same_length("coec_by_group", clicks.size(), expected_ctr.size(), "expected CTRs");
    std::vector<double> c(size_t(std::max(num_groups, 0)), 0.0), ec(c.size(), 0.0);
    for (size_t i = 0; i < group.size(); ++i) {
        if (group[i] < 0 || group[i] >= num_groups)
            arg_fail("coec_by_group", "group " + std::to_string(group[i]) + " outside [0, " + std::to_string(num_groups) + ")");
        if (!(expected_ctr[i] >= 0.0f)) arg_fail("coec_by_group", "expected CTR " + std::to_string(i) + " is negative or NaN");
        c[size_t(group[i])] += clicks[i];
        ec[size_t(group[i])] += expected_ctr[i];
    }
    for (size_t g = 0; g < c.size(); ++g) c[g] = ec[g] > 0.0 ? c[g] / ec[g] : kNaN;
    return c;
}

double kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
    check_same_length("kendall_tau", a.size(), b.size(), "values");
    const size_t n = a.size();
    double concordant_minus_discordant = 0.0, untied_a = 0.0, untied_b = 0.0;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < n; ++j) {
            const int sa = (a[i] > a[j]) - (a[i] < a[j]), sb = (b[i] > b[j]) - (b[i] < b[j]);
            concordant_minus_discordant += sa * sb;   // +1 same order, -1 opposite, 0 a tie
            untied_a += sa != 0;
            untied_b += sb != 0;
        }
    if (untied_a == 0.0 || untied_b == 0.0) return kNaN;
    return concordant_minus_discordant / std::sqrt(untied_a * untied_b);
}

double cs_auc(const std::vector<float>& scores, const std::vector<float>& labels, const std::vector<float>& bids) {
    check_same_length("cs_auc", scores.size(), labels.size(), "labels");
    check_same_length("cs_auc", scores.size(), bids.size(), "bids");
    std::vector<float> neg_scores;
    std::vector<size_t> pos;
    for (size_t i = 0; i < scores.size(); ++i) {
        if (std::isnan(scores[i])) arg_fail("cs_auc", "score " + std::to_string(i) + " is NaN");
        if (!(bids[i] >= 0.0f) || std::isinf(bids[i])) arg_fail("cs_auc", "bid " + std::to_string(i) + " is negative or not finite");
        if (labels[i] > 0.5f) pos.push_back(i);
        else neg_scores.push_back(scores[i]);
    }
    std::sort(neg_scores.begin(), neg_scores.end());
    double gained = 0.0, at_stake = 0.0;

    // (positive h, negative l): Rev = bid_h; count the negatives below s_h, ties one half.
    const double n_neg = double(neg_scores.size());
    for (size_t h : pos) {
        const auto lo = std::lower_bound(neg_scores.begin(), neg_scores.end(), scores[h]);
        const auto hi = std::upper_bound(lo, neg_scores.end(), scores[h]);
        gained += bids[h] * (double(lo - neg_scores.begin()) + 0.5 * double(hi - lo));
        at_stake += bids[h] * n_neg;
    }

    // (positive h, positive l), bid_h > bid_l: Rev = bid_h - bid_l. We visit the positives by
    // ascending bid; the Fenwick trees hold, per score rank, the count and bid sum of the positives
    // visited so far (all with bid <= bid_h; equal bids add Rev = 0). For the positive h:
    //   sum_{l below h in score} (bid_h - bid_l) = bid_h * count_below - bidsum_below.
    std::vector<float> pos_scores;
    for (size_t i : pos) pos_scores.push_back(scores[i]);
    std::sort(pos_scores.begin(), pos_scores.end());
    pos_scores.erase(std::unique(pos_scores.begin(), pos_scores.end()), pos_scores.end());
    std::vector<size_t> by_bid = pos;
    std::stable_sort(by_bid.begin(), by_bid.end(), [&](size_t x, size_t y) { return bids[x] < bids[y]; });
    Fenwick count(pos_scores.size()), bid_sum(pos_scores.size());
    double visited = 0.0, visited_bids = 0.0;
    for (size_t h : by_bid) {
        const size_t r = size_t(std::lower_bound(pos_scores.begin(), pos_scores.end(), scores[h]) - pos_scores.begin());
        const double b = bids[h];
        const double n_below = count.prefix(r), s_below = bid_sum.prefix(r);
        const double n_tied = count.prefix(r + 1) - n_below, s_tied = bid_sum.prefix(r + 1) - s_below;
        gained += (b * n_below - s_below) + 0.5 * (b * n_tied - s_tied);
        at_stake += b * visited - visited_bids;
        count.add(r, 1.0);
        bid_sum.add(r, b);
        visited += 1.0;
        visited_bids += b;
    }
    return at_stake > 0.0 ? gained / at_stake : kNaN;
}

}  // namespace minirec

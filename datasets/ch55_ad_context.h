// Chapter 55's world: simulated ad impressions whose click depends on how the target ad relates to
// the ads shown above it on the page and to the user's clicked and unclicked ads. The control world
// (aux_signal = false) clicks on the ad's own quality alone, so auxiliary ads carry nothing.
// Also the padding of a batch's auxiliary ads into the model's inputs.
// Deliberately left out: users and queries as features, time stamps, the ads below the target.
//
// Ads belong to categories and have a quality q_a. A user has two interest categories; clicked ads
// come mostly (80%) from those, unclicked ads mostly from the others; the target ad is from an
// interest half of the time; the ads above it (0..max_context) are half from the interests. The
// planted click logit of target t is
//   bias + q_t + w_clicked min(s_l, 3) - w_unclicked min(s_u, 3) - w_context s_c - w_position n_c
// where s_l, s_u, s_c count the clicked / unclicked / contextual ads of t's category: a clicked ad
// like it raises the CTR, an unclicked one lowers it, a similar ad just above it steals its click.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

enum AdKind { kContextAds, kClickedAds, kUnclickedAds, kNumAdKinds };

struct AdContextOptions {
    int ads = 400, categories = 20;
    int rows = 20000, test_rows = 10000;
    int max_clicked = 8, max_unclicked = 8, max_context = 4;
    double bias = -1.0, quality_std = 0.5;
    double w_clicked = 0.9, w_unclicked = 0.7, w_context = 0.9, w_position = 0.15;
    bool aux_signal = true;      // false: the control world, every w_* above is 0
    uint64_t seed = 1;
};

struct AdImpression {
    int ad = 0;
    std::vector<int> aux[kNumAdKinds];   // ad ids of the contextual, clicked and unclicked ads
    int same[kNumAdKinds] = {};          // how many of each kind share the target's category
    float click = 0.0f, prob = 0.0f;
};

struct AdContextLog {
    std::vector<int> category;           // (ads)
    std::vector<float> quality;          // (ads)
    std::vector<AdImpression> train, test;
    std::vector<std::vector<int>> by_category;
};

inline AdContextLog simulate_ad_context(const AdContextOptions& o) {
    Rng rng(o.seed);
    AdContextLog log;
    log.by_category.resize(size_t(o.categories));
    for (int a = 0; a < o.ads; ++a) {
        const int c = a < o.categories ? a : rng.randint(o.categories);   // every category has an ad
        log.category.push_back(c), log.by_category[size_t(c)].push_back(a);
        log.quality.push_back(float(o.quality_std) * rng.normal());
    }
    auto ad_in = [&](int c) { const std::vector<int>& v = log.by_category[size_t(c)]; return v[size_t(rng.randint(int(v.size())))]; };
    const double s = o.aux_signal ? 1.0 : 0.0;
    for (int r = 0; r < o.rows + o.test_rows; ++r) {
        const int i1 = rng.randint(o.categories), i2 = (i1 + 1 + rng.randint(o.categories - 1)) % o.categories;
        auto interest = [&]() { return rng.uniform() < 0.5f ? i1 : i2; };
        auto other = [&]() { int c; do c = rng.randint(o.categories); while (c == i1 || c == i2); return c; };
        AdImpression im;
        im.ad = ad_in(rng.uniform() < 0.5f ? interest() : rng.randint(o.categories));
        for (int j = rng.randint(o.max_context + 1); j > 0; --j) im.aux[kContextAds].push_back(ad_in(rng.uniform() < 0.5f ? interest() : rng.randint(o.categories)));
        for (int j = rng.randint(o.max_clicked + 1); j > 0; --j) im.aux[kClickedAds].push_back(ad_in(rng.uniform() < 0.8f ? interest() : other()));
        for (int j = rng.randint(o.max_unclicked + 1); j > 0; --j) im.aux[kUnclickedAds].push_back(ad_in(rng.uniform() < 0.8f ? other() : interest()));
        for (int k = 0; k < kNumAdKinds; ++k)
            for (int a : im.aux[k]) im.same[k] += log.category[size_t(a)] == log.category[size_t(im.ad)];
        const double z = o.bias + log.quality[size_t(im.ad)] +
                         s * (o.w_clicked * std::min(im.same[kClickedAds], 3) - o.w_unclicked * std::min(im.same[kUnclickedAds], 3) -
                              o.w_context * im.same[kContextAds] - o.w_position * double(im.aux[kContextAds].size()));
        im.prob = float(sigmoid(z));
        im.click = rng.uniform() < im.prob ? 1.0f : 0.0f;
        (r < o.rows ? log.train : log.test).push_back(std::move(im));
    }
    return log;
}

// Kind k of the auxiliary ads of rows[pick[j]] (j < B) as model inputs, padded to T slots, T the
// longest list among them: the ad ids and their categories (B * T, row-major; padding is ad 0) and
// the mask (B, T), 1 for a real ad and 0 for padding. Returns T.
inline int pad_aux_ads(const AdContextLog& log, const std::vector<AdImpression>& rows, const std::vector<int>& pick, int k,
                       Ids* ids, Ids* cats, Tensor* mask) {
    int T = 1;                                   // at least one slot, so shapes stay valid
    for (int r : pick) T = std::max(T, int(rows[size_t(r)].aux[k].size()));
    *mask = Tensor({int(pick.size()), T});
    for (size_t j = 0; j < pick.size(); ++j) {
        const std::vector<int>& ads = rows[size_t(pick[j])].aux[k];
        for (int t = 0; t < T; ++t) {
            const bool real = t < int(ads.size());
            const int ad = real ? ads[size_t(t)] : 0;
            ids->push_back(ad), cats->push_back(log.category[size_t(ad)]);
            (*mask)[j * size_t(T) + size_t(t)] = real ? 1.0f : 0.0f;
        }
    }
    return T;
}

}  // namespace datasets
}  // namespace minirec

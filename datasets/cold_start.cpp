// Users, items with side information, and new-user / new-item hold-outs.
// Deliberately left out: sequential cold start (first sessions).
#include "datasets/cold_start.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

static std::vector<bool> pick_fraction(int n, double fraction, Rng& rng) {
    std::vector<bool> chosen(n, false);
    std::vector<int> perm = rng.permutation(n);
    int k = static_cast<int>(fraction * n + 0.5);
    for (int j = 0; j < k; ++j) chosen[perm[j]] = true;
    return chosen;
}

ColdStartData cold_start(const ColdStartOptions& o) {
    if (o.num_users < 1 || o.num_items < 1 || o.dim < 1 || o.num_keywords < o.dim || o.interest_tags > o.dim ||
        o.items_per_user > o.num_items || o.age_buckets < 1 || o.num_occupations < 1 || o.tail_rank < 0.0 ||
        o.num_shops < 0)
        arg_fail("cold_start", "inconsistent sizes (num_keywords >= dim, interest_tags <= dim, items_per_user <= num_items, "
                               "tail_rank and num_shops >= 0)");
    Rng rng(o.seed);
    const int D = o.dim, U = o.num_users, N = o.num_items;
    ColdStartData d;
    // Items: latent vectors, expert labels, tag (main dimension), keywords.
    d.item_latent = Tensor::normal({N, D}, rng);
    d.expert_labels = d.item_latent + Tensor::normal({N, D}, rng, 0.0f, float(o.expert_noise));
    const int kw_per_dim = o.num_keywords / D;
    for (int i = 0; i < N; ++i) {
        const float* z = d.item_latent.data() + size_t(i) * D;
        int tag = static_cast<int>(std::max_element(z, z + D) - z);
        d.item_tag.push_back(tag);
        Ids kw;
        for (int k = 0; k < o.keywords_per_item; ++k)
            kw.push_back(rng.uniform() < 0.7f ? tag * kw_per_dim + rng.randint(kw_per_dim) : rng.randint(o.num_keywords));
        d.item_keywords.push_back(kw);
    }
    // Demographic groups: (age bucket, gender) share a mean taste; occupation adds a smaller one.
    Tensor group_mean = Tensor::normal({o.age_buckets * 2, D}, rng);
    Tensor occ_mean = Tensor::normal({o.num_occupations, D}, rng, 0.0f, 0.5f);
    d.user_taste = Tensor({U, D});
    for (int u = 0; u < U; ++u) {
        int age = rng.randint(o.age_buckets), gender = rng.randint(2), occ = rng.randint(o.num_occupations);
        d.age_bucket.push_back(age), d.gender.push_back(gender), d.occupation.push_back(occ);
        float* t = d.user_taste.data() + size_t(u) * D;
        for (int k = 0; k < D; ++k)
            t[k] = group_mean[size_t(age * 2 + gender) * D + k] + occ_mean[size_t(occ) * D + k] +
                   float(o.personal_std) * rng.normal();
        std::vector<int> dims(D);
        std::iota(dims.begin(), dims.end(), 0);
        std::stable_sort(dims.begin(), dims.end(), [&](int a, int b) { return t[a] > t[b]; });
        d.user_tags.emplace_back(dims.begin(), dims.begin() + o.interest_tags);
    }
    d.is_new_user = pick_fraction(U, o.new_user_fraction, rng);
    d.is_new_item = pick_fraction(N, o.new_item_fraction, rng);
    for (int u = 0; u < U; ++u) {
        std::vector<int> perm = rng.permutation(N);
        for (int j = 0; j < o.items_per_user; ++j) {
            int i = perm[j];
            double p = cold_start_click_prob(d, o, u, i);
            ColdStartRow row{u, i, rng.uniform_double() < p ? 1.0f : 0.0f, float(p)};
            bool nu = d.is_new_user[u], ni = d.is_new_item[i];
            (nu && ni ? d.test_both_new : nu ? d.test_new_users : ni ? d.test_new_items : d.train).push_back(row);
        }
    }
    // The long tail and the shops come from their own stream, so they leave the rest unchanged.
    Rng tail(splitmix64(o.seed + 11));
    if (o.tail_rank > 0.0) {
        d.exposure_rank = tail.permutation(N);
        std::vector<ColdStartRow> kept;
        for (const ColdStartRow& r : d.train)
            if (tail.uniform_double() < std::min(1.0, o.tail_rank / (d.exposure_rank[size_t(r.item)] + 1.0))) kept.push_back(r);
        d.train = std::move(kept);
    }
    for (int i = 0; i < N && o.num_shops > 0; ++i) d.item_shop.push_back(tail.randint(o.num_shops));
    return d;
}

double cold_start_click_prob(const ColdStartData& d, const ColdStartOptions& o, int u, int i) {
    const int D = o.dim;
    double s = 0.0;
    for (int k = 0; k < D; ++k) s += double(d.user_taste[size_t(u) * D + k]) * d.item_latent[size_t(i) * D + k];
    return sigmoid(o.bias + o.scale * s / std::sqrt(double(D)));
}

}  // namespace datasets
}  // namespace minirec

// The trait shop of datasets/trait_shop.h: traits and item vectors, then per user a behaviour
// sequence, the user-level labels and the CTR rows, all from one seeded generator.
#include "datasets/trait_shop.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace minirec {
namespace datasets {

int normal_quartile(double x) { return x < -0.6745 ? 0 : x < 0.0 ? 1 : x < 0.6745 ? 2 : 3; }

TraitShop trait_shop(const TraitShopOptions& o) {
    if (o.users < 1 || o.transfer_users < 4 || o.items < 2 || o.categories < 1 || o.traits != 4 || o.length < 1 ||
        o.time_buckets < 1 || o.ctr_rows_per_user < 1)
        arg_fail("trait_shop", "sizes must be positive, traits must be 4, transfer_users >= 4");
    TraitShop w;
    w.o = o;
    Rng rng(splitmix64(o.seed));
    const int U = w.all_users(), K = o.traits, N = o.items, T = o.length;
    for (int i = 0; i < U * K; ++i) w.z.push_back(rng.normal());
    for (int i = 0; i < N * K; ++i) w.v.push_back(rng.normal());
    for (int i = 0; i < N; ++i) {
        w.category.push_back(rng.randint(o.categories));
        w.price.push_back(normal_quartile(w.v[size_t(i * K + 2)]));
    }
    std::vector<double> p(size_t(N), 0.0);
    for (int u = 0; u < U; ++u) {
        const float* zu = &w.z[size_t(u * K)];
        double total = 0.0;                // exp(beta <z_u, v_i>) for every item, and their sum
        for (int i = 0; i < N; ++i) {
            double s = 0.0;
            for (int k = 0; k < K; ++k) s += double(zu[k]) * w.v[size_t(i * K + k)];
            total += p[size_t(i)] = std::exp(o.beta * s);
        }
        for (int t = 0; t < T; ++t) {
            const bool buy = rng.uniform_double() < o.buy_rate;
            int item = rng.randint(N);
            if (buy) {   // inverse-CDF draw from softmax(beta <z, v>)
                double r = rng.uniform_double() * total;
                for (item = 0; item < N - 1 && (r -= p[size_t(item)]) > 0.0; ++item) {}
            }
            w.seq_item.push_back(item);
            w.seq_type.push_back(buy ? kBuy : kClick);
        }
        const bool flip = rng.uniform_double() < 0.2;
        w.profile.push_back((zu[0] > 0.0f) != flip ? 1 : 0);
        w.price_class.push_back(normal_quartile(zu[2]));
        w.shop_class.push_back(normal_quartile(zu[3]));
        w.new_label.push_back(zu[1] + zu[2] - zu[3] + o.new_task_noise * rng.normal() > 0.0f ? 1.0f : 0.0f);
        for (int r = 0; r < o.ctr_rows_per_user; ++r) {
            const int j = rng.randint(N);
            const double s = double(zu[0]) * w.v[size_t(j * K)] + double(zu[1]) * w.v[size_t(j * K + 1)];
            w.ctr_user.push_back(u);
            w.ctr_item.push_back(j);
            w.click.push_back(rng.uniform_double() < 1.0 / (1.0 + std::exp(-o.ctr_scale * s)) ? 1.0f : 0.0f);
        }
    }
    Rng control(splitmix64(o.seed + 5));   // a stream of its own: the draws above do not change
    for (int u = 0; u < U; ++u) {
        const float* zu = &w.z[size_t(u * K)];
        w.control_label.push_back(zu[0] - zu[1] + float(o.new_task_noise) * control.normal() > 0.0f ? 1.0f : 0.0f);
    }
    return w;
}

TransferSplit transfer_split(const TraitShop& w, const std::vector<float>& label) {
    TransferSplit t;
    const int half = w.o.transfer_users / 2;
    for (int u = 0; u < w.o.transfer_users; ++u) {
        const int row = (w.o.users + u) * w.o.ctr_rows_per_user;
        (u < half ? t.train_rows : t.test_rows).push_back(row);
        (u < half ? t.ytr : t.yte).push_back(label[size_t(w.o.users + u)]);
    }
    return t;
}

ShopBatch shop_batch(const TraitShop& w, const std::vector<int>& rows) {
    ShopBatch b;
    const int T = w.o.length;
    b.B = int(rows.size()), b.T = T;
    b.click = Tensor({b.B, 1});
    for (size_t r = 0; r < rows.size(); ++r) {
        const int u = w.ctr_user[size_t(rows[r])], j = w.ctr_item[size_t(rows[r])];
        for (int t = 0; t < T; ++t) {
            const int item = w.seq_item[size_t(u * T + t)];
            b.item.push_back(item), b.category.push_back(w.category[size_t(item)]);
            b.price.push_back(w.price[size_t(item)]), b.type.push_back(w.seq_type[size_t(u * T + t)]);
            b.time.push_back(t * w.o.time_buckets / T);
        }
        b.query.push_back(w.category[size_t(j)]), b.profile.push_back(w.profile[size_t(u)]);
        b.candidate.push_back(j);
        b.price_class.push_back(w.price_class[size_t(u)]), b.shop_class.push_back(w.shop_class[size_t(u)]);
        b.click[r] = w.click[size_t(rows[r])];
    }
    return b;
}

std::vector<int> transfer_ctr_rows(const TraitShop& w) {
    std::vector<int> rows(size_t(w.o.transfer_users * w.o.ctr_rows_per_user));
    std::iota(rows.begin(), rows.end(), w.o.users * w.o.ctr_rows_per_user);
    return rows;
}

std::pair<std::vector<int>, std::vector<float>> draw_training_rows(const TransferSplit& t, int n, Rng& rng) {
    std::vector<int> rows;
    std::vector<float> labels;
    for (int k = 0; k < n; ++k) {
        const size_t i = size_t(rng.randint(int(t.train_rows.size())));
        rows.push_back(t.train_rows[i]), labels.push_back(t.ytr[i]);
    }
    return {rows, labels};
}

std::array<double, 2> mean_weight_by_type(const TraitShop& w, const std::vector<float>& weights) {
    double sum[2] = {}, count[2] = {};
    for (size_t i = 0; i < weights.size(); ++i) {
        const int buy = w.seq_type[size_t(w.o.users * w.o.length) + i] == kBuy;
        sum[buy] += weights[i], count[buy] += 1.0;
    }
    return {sum[kClick] / std::max(1.0, count[kClick]), sum[kBuy] / std::max(1.0, count[kBuy])};
}

}  // namespace datasets
}  // namespace minirec

// What every chapter that runs on MovieLens-100k (--data) shares: the flag, loaded while the flags are
// checked (a bad folder or file: one line naming it, exit 2, before any work), and the table of
// datasets/next_item.h's protocol, HR@10, NDCG@10 and MRR sampled and full, mean over seeds.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "datasets/movielens.h"
#include "datasets/next_item.h"
#include "nn/train.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

namespace minirec {

// Registers --data PATH; when given, `use` receives the loaded folder during the flags' checks.
inline void add_movielens_flag(Flags& flags, std::string* path, std::function<void(const datasets::MovieLens100k&)> use) {
    add_data_flag(flags, path, "MovieLens-100k folder (u.data, u.item, u.user): run on it instead of the synthetic worlds",
                  [use](const std::string& p) { use(datasets::load_movielens_100k(p)); });
}

// One row per model: quality(m, s) is model m's result with seed s, for `seeds` seeds. `name` is the
// CSV's stem, `full` names the full-ranking columns.
inline Table next_item_table(const std::vector<std::string>& models, size_t seeds,
                             const std::function<datasets::NextItemQuality(size_t, size_t)>& quality,
                             const std::string& name = "ml100k", const std::string& full = "full") {
    using Q = datasets::NextItemQuality;
    Table t(name, {"model", "HR@10", "NDCG@10", "MRR", "HR@10 (" + full + ")", "NDCG@10 (" + full + ")", "MRR (" + full + ")"});
    for (size_t m = 0; m < models.size(); ++m) {
        std::vector<Q> q;
        for (size_t s = 0; s < seeds; ++s) q.push_back(quality(m, s));
        std::vector<std::string> row = {models[m]};
        for (auto f : {&Q::hr, &Q::ndcg, &Q::mrr, &Q::hr_full, &Q::ndcg_full, &Q::mrr_full})
            row.push_back(num("%.4f", mean_over(q, [&](const Q& x) { return x.*f; })));
        t.add(row);
    }
    return t;
}

}  // namespace minirec

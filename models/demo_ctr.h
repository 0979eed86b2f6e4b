// The first demo's model (tutorials/demo_ctr.h trains it): every categorical field's embedding, the
// mean of the multi-hot tags' embeddings and the numeric field, concatenated into a ReLU MLP, one
// logit per row. Deliberately left out: feature crosses (FM, DeepFM, AutoInt: later chapters).
#pragma once
#include <algorithm>
#include <utility>
#include <vector>

#include "core/ops.h"
#include "datasets/synthetic_ctr.h"
#include "nn/layers.h"

namespace minirec {
namespace demo {

// The model: e = [E_1[x_1], ..., E_F[x_F], mean of E_tag[tags], z] -> MLP -> logit.
// The F field tables live in ONE table of sum_f V_f rows (field f's id x is row offset_f + x),
// so a batch needs a single lookup.
struct CtrModel {
    std::vector<int> offsets;  // offset_f: first row of field f in `fields`
    Embedding fields;          // (sum_f V_f, D)
    EmbeddingBag tags;         // (T, D), mean over a row's tags
    MLP mlp;                   // (F D + D + 1) -> hidden -> hidden/2 -> 1

    CtrModel(const datasets::CtrData& d, int dim, int hidden, Rng& rng) {
        int rows = 0;
        for (int v : d.vocab_sizes) offsets.push_back(rows), rows += v;
        fields = Embedding(rows, dim, rng, 0.05f);
        tags = EmbeddingBag(d.num_tags, dim, rng, BagMode::mean, 0.05f);
        const int in = d.num_fields * dim + dim + 1;
        mlp = MLP(MLPOptions{{in, hidden, hidden / 2, 1}}, rng);
    }

    // The logits (B) of the rows `batch` of d.
    Var operator()(const datasets::CtrData& d, const std::vector<int>& batch) {
        const int B = static_cast<int>(batch.size()), F = d.num_fields;
        Ids ids, tag_ids;
        std::vector<int> tag_offsets{0};
        Tensor z({B, 1});
        for (int i = 0; i < B; ++i) {
            const size_t r = static_cast<size_t>(batch[static_cast<size_t>(i)]);
            for (int f = 0; f < F; ++f) ids.push_back(offsets[static_cast<size_t>(f)] + d.cat[r * F + f]);
            for (int j = d.tag_offsets[r]; j < d.tag_offsets[r + 1]; ++j) tag_ids.push_back(d.tag_ids[static_cast<size_t>(j)]);
            tag_offsets.push_back(static_cast<int>(tag_ids.size()));
            z[static_cast<size_t>(i)] = d.numeric[r];
        }
        Var e = reshape(fields(ids, {B, F}), {B, -1});                        // (B, F D)
        Var x = concat({e, tags(tag_ids, tag_offsets), constant(std::move(z))}, 1);  // (B, F D + D + 1)
        return reshape(mlp(x), {B});                                          // (B)
    }

    std::vector<Var> parameters() const {
        std::vector<Var> p = fields.parameters();
        append(p, tags.parameters());
        append(p, mlp.parameters());
        return p;
    }
};

// Click probabilities of the rows `idx`, in batches, without recording a graph.
inline std::vector<float> predict(CtrModel& model, const datasets::CtrData& d, const std::vector<int>& idx) {
    NoGrad no_grad;
    model.mlp.set_training(false);
    std::vector<float> p;
    for (size_t s = 0; s < idx.size(); s += 4096) {
        const std::vector<int> batch(idx.begin() + static_cast<long>(s),
                                     idx.begin() + static_cast<long>(std::min(idx.size(), s + 4096)));
        const Var prob = sigmoid(model(d, batch));
        p.insert(p.end(), prob.value().vec().begin(), prob.value().vec().end());
    }
    model.mlp.set_training(true);
    return p;
}

}  // namespace demo
}  // namespace minirec

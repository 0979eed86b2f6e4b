// The first demo: a small click-through-rate model trained by minirec, end to end in seconds.
// Synthetic click logs (datasets/synthetic_ctr.h) whose true click probability we know; a model
// of embeddings + MLP (each categorical field its own embedding, the multi-hot tags averaged, the
// numeric field as is, all concatenated into a ReLU MLP); Adam on the logistic loss with a
// progress bar; then train and test AUC and logloss, next to the oracle's (the true
// probabilities: the best any model can do on these rows).
// Deliberately left out: feature crosses (later chapters: FM, DeepFM, AutoInt), early stopping.
#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/kernels.h"
#include "core/ops.h"
#include "datasets/synthetic_ctr.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

using namespace minirec;

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
static std::vector<float> predict(CtrModel& model, const datasets::CtrData& d, const std::vector<int>& idx) {
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

static std::vector<float> pick(const std::vector<float>& v, const std::vector<int>& idx) {
    std::vector<float> out;
    for (int i : idx) out.push_back(v[static_cast<size_t>(i)]);
    return out;
}

int main(int argc, char** argv) {
    Flags flags("demo_ctr", "A small CTR model (embeddings + MLP) on synthetic click logs with known "
                            "click probabilities: train/test AUC and logloss against the oracle's.");
    flags.epochs = 5;
    int rows = 600000, dim = 8, hidden = 64, batch_size = 256;
    float lr = 2e-3f;
    flags.add("rows", &rows, "synthetic rows (80% train, 20% test)");
    flags.add("dim", &dim, "embedding size D");
    flags.add("hidden", &hidden, "first MLP layer (the second has half)");
    flags.add("batch", &batch_size, "mini-batch size");
    flags.add("lr", &lr, "Adam learning rate");
    flags.parse_or_exit(argc, argv);
    if (flags.quick) {
        rows = 20000;
        flags.epochs = 2;
    }

    datasets::CtrOptions opts;
    opts.n = rows;
    opts.seed = flags.seed;
    const datasets::CtrData data = datasets::synthetic_ctr(opts);
    std::vector<int> train_rows, test_rows;
    for (int r = 0; r < rows; ++r) (r < rows * 4 / 5 ? train_rows : test_rows).push_back(r);
    std::printf("# minirec demo: CTR with embeddings + MLP\n\n%d rows (%zu train, %zu test), %d fields + tags + "
                "1 numeric, click rate %.3f, kernels %s, seed %llu\n\n",
                rows, train_rows.size(), test_rows.size(), data.num_fields, data.base_rate,
                kernels::active().name, static_cast<unsigned long long>(flags.seed));

    Rng rng(flags.seed);
    CtrModel model(data, dim, hidden, rng);
    Adam opt(model.parameters(), AdamOptions{lr});

    // The training loop, written out: batch, forward, loss, backward, step, log.
    const int steps = static_cast<int>((train_rows.size() + static_cast<size_t>(batch_size) - 1) / batch_size);
    Progress progress(flags.epochs, steps);
    long step = 0;
    for (int epoch = 0; epoch < flags.epochs; ++epoch) {
        progress.start_epoch(epoch);
        for (const std::vector<int>& batch : make_batches(train_rows, batch_size, rng)) {
            Tensor y({static_cast<int>(batch.size())});
            for (size_t i = 0; i < batch.size(); ++i) y[i] = data.labels[static_cast<size_t>(batch[i])];
            Var loss = bce_with_logits(model(data, batch), y);
            opt.zero_grad();
            backward(loss);
            opt.step();
            check_finite(loss.item(), step++);
            progress.step(loss.item(), static_cast<int>(batch.size()));
        }
        progress.end_epoch();
    }

    // Train and test metrics of the model and of the oracle (the true click probabilities).
    std::printf("| rows | model AUC | oracle AUC | model logloss | oracle logloss |\n|---|---:|---:|---:|---:|\n");
    for (const auto& [name, idx] : {std::pair<const char*, const std::vector<int>&>{"train", train_rows},
                                    std::pair<const char*, const std::vector<int>&>{"test", test_rows}}) {
        const std::vector<float> p = predict(model, data, idx), y = pick(data.labels, idx);
        const std::vector<float> oracle = pick(data.true_prob, idx);
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f |\n", name, auc(p, y), auc(oracle, y), logloss(p, y),
                    logloss(oracle, y));
    }
    std::printf("\nThe oracle knows the planted click probabilities; the gap to it is what the model "
                "has not learned (the planted interactions are what later chapters' models target).\n");
    return 0;
}

// Reference training benchmarks (Google Benchmark): the time of one training step - zero_grad,
// forward, loss, backward, Adam - single-threaded, for five recommender configurations that
// ../shared/reference/torch_ref.py defines identically in PyTorch (same shapes, batch sizes and
// step), so that minirec and PyTorch eager can be compared on the same work:
//   ctr_mlp    10 fields x 1000 ids, D 16, concat, MLP 160-256-128-1, BCE, batch 256
//   mmoe       input 100, 8 experts 100->16 ReLU, 2 softmax gates, towers 16-8-1, MSE, batch 256
//   autoint    10 fields x 1000 ids, D 16, 3 interacting layers (2 heads of 32, residual, ReLU), BCE
//   bert4rec   1700 items (+pad, +mask), T 50, D 64, 2 post-norm layers, 2 heads, GELU FFN 256,
//              tied output softmax over all 1702 ids at the 10 masked positions only, batch 128
//   two_tower  user 10 fields -> 160-128-64, item 5 fields -> 80-128-64, L2-normalised,
//              in-batch softmax at temperature 0.05 with log q correction, batch 512
// Each case reports Google Benchmark's mean wall time and, as the counter median_ms, the median
// wall time of one step, the statistic torch_ref.py reports (compare_torch.sh compares those).
// Run (bench/compare_torch.sh interleaves it with PyTorch and prints the ratios):
//   build/bench/bench_train_step --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   build/bench/bench_train_step --batch=1024     every configuration at batch 1024 (issue 17's sweep;
//                                                  bench/torch_batch.py runs torch_ref.py's at any batch)
// Without --batch each runs at its own batch size above, under its plain name (ctr_mlp, ...), so
// tables from before the flag stay comparable; with it the names read ctr_mlp/batch:1024 and so on.
// Batches are generated before timing (a pool of 16, cycled), as torch_ref.py does.
// Deliberately left out: dropout (0 in the reference), multi-threading, data loading.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_main.h"
#include "core/kernels.h"
#include "core/ops.h"
#include "core/rng.h"
#include "datasets/mmoe_synthetic.h"
#include "models/ch68_mmoe.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/optim.h"

using namespace minirec;

namespace {

constexpr int kPool = 16;  // pre-generated batches, cycled

// F categorical fields of V ids each, stored as ONE table of F*V rows: field f's id x lives in row
// f V + x, so a batch (B, F) is a single lookup (as torch_ref.py's FieldEmbedding).
struct FieldEmbedding {
    Embedding emb;
    int fields = 0, vocab = 0;

    FieldEmbedding(int F, int V, int D, Rng& rng, float init_std) : emb(F * V, D, rng, init_std), fields(F), vocab(V) {}

    // ids (B*F) field-local, row-major -> (B, F, D)
    Var operator()(const Ids& ids) const {
        Ids rows(ids.size());
        for (size_t i = 0; i < ids.size(); ++i) rows[i] = static_cast<int32_t>(i % fields) * vocab + ids[i];
        return emb(rows, {static_cast<int>(ids.size()) / fields, fields});
    }
};

// A CTR batch: B rows of F field-local ids and a click label from a random "teacher" table.
struct CtrBatch {
    Ids x;       // (B*F)
    Tensor y;    // (B)
};

std::vector<CtrBatch> make_ctr(Rng& rng, int B, int F = 10, int V = 1000) {
    const Tensor teacher = Tensor::normal({F, V}, rng);
    std::vector<CtrBatch> pool;
    for (int p = 0; p < kPool; ++p) {
        CtrBatch b{Ids(static_cast<size_t>(B) * F), Tensor({B})};
        for (int i = 0; i < B; ++i) {
            float logit = 0.0f;
            for (int f = 0; f < F; ++f) {
                const int x = rng.randint(V);
                b.x[static_cast<size_t>(i) * F + f] = x;
                logit += teacher[static_cast<size_t>(f) * V + x];
            }
            logit /= std::sqrt(static_cast<float>(F));
            b.y[static_cast<size_t>(i)] = rng.bernoulli(1.0f / (1.0f + std::exp(-logit))) ? 1.0f : 0.0f;
        }
        pool.push_back(std::move(b));
    }
    return pool;
}

// ---- ctr_mlp: embeddings, concat, MLP 160-256-128-1 ------------------------------------------
struct CtrMlp {
    static constexpr int kDefaultBatch = 256;
    const int B;  // first: the members below are built at this batch size
    Rng rng{1};
    FieldEmbedding emb{10, 1000, 16, rng, 0.05f};
    MLP mlp{MLPOptions{{160, 256, 128, 1}}, rng};
    std::vector<CtrBatch> data = make_ctr(rng, B);

    explicit CtrMlp(int batch) : B(batch) {}
    std::vector<Var> parameters() const {
        std::vector<Var> p = emb.emb.parameters();
        append(p, mlp.parameters());
        return p;
    }
    Var loss(size_t i) {
        const CtrBatch& b = data[i % data.size()];
        Var e = reshape(emb(b.x), {B, 160});                  // (B, F D): the concatenated fields
        return bce_with_logits(reshape(mlp(e), {B}), b.y);    // (B) logits
    }
};

// ---- mmoe: the chapter-68 model at the paper's synthetic sizes ------------------------------
struct MmoeBench {
    static constexpr int kDefaultBatch = 256;
    const int B;
    Rng rng{2};
    ch68::MultiTaskOptions opt = [] {
        ch68::MultiTaskOptions o;
        o.input = 100;
        o.experts = 8;
        o.expert_hidden = 16;
        o.tasks = 2;
        o.tower_hidden = 8;
        return o;
    }();
    ch68::MMoE model{opt, rng};
    std::vector<Var> x;            // the inputs as constants, made once (as torch_ref.py's tensors)
    std::vector<Tensor> y1, y2;

    explicit MmoeBench(int batch) : B(batch) {
        datasets::MMoEOptions d;
        d.input_dim = 100;
        datasets::MMoEStream stream(d);
        for (int p = 0; p < kPool; ++p) {
            datasets::MMoEData batch = stream.next(B);
            Tensor t1({B, 1}), t2({B, 1});
            for (int i = 0; i < B; ++i) {
                t1[static_cast<size_t>(i)] = batch.y[static_cast<size_t>(i) * 2];
                t2[static_cast<size_t>(i)] = batch.y[static_cast<size_t>(i) * 2 + 1];
            }
            x.push_back(constant(std::move(batch.x)));
            y1.push_back(std::move(t1));
            y2.push_back(std::move(t2));
        }
    }
    std::vector<Var> parameters() const { return vars_of(model.named_parameters()); }
    Var loss(size_t i) {
        const size_t k = i % x.size();
        ch68::MultiTaskOutput out = model.forward(x[k]);  // two (B, 1) predictions
        return mse_loss(out.y[0], y1[k]) + mse_loss(out.y[1], y2[k]);
    }
};

// ---- autoint: multi-head self-attention over the fields --------------------------------------
// One interacting layer (Song et al. 2019, eqs. 5-8): every field attends to every field with H
// heads of size d (no output projection: the heads are concatenated), plus a residual projection,
//     e' = ReLU(concat_h(head_h) + e W_res)
// Our MultiHeadAttention scales the scores by 1/sqrt(d); the paper (and torch_ref.py) do not.
// That is one extra multiply on a (B, H, F, F) tensor, so it does not change the cost.
struct InteractingLayer {
    MultiHeadAttention attn;
    Linear res;

    InteractingLayer(int in, int heads, int d, Rng& rng) {
        MultiHeadAttentionOptions o;
        o.dim = in;
        o.heads = heads;
        o.head_dim = d;
        o.bias = false;
        o.out_proj = false;
        attn = MultiHeadAttention(o, rng);
        res = Linear(in, heads * d, rng, false);
    }
    Var operator()(const Var& e) { return relu(attn(e) + res(e)); }  // (B, F, in) -> (B, F, H d)
    std::vector<Var> parameters() const {
        std::vector<Var> p = attn.parameters();
        append(p, res.parameters());
        return p;
    }
};

struct AutoIntBench {
    static constexpr int kDefaultBatch = 256, F = 10;
    const int B;  // first: data below is generated at this batch size
    Rng rng{3};
    FieldEmbedding emb{F, 1000, 16, rng, 0.05f};
    std::vector<InteractingLayer> layers;
    Linear out;
    std::vector<CtrBatch> data = make_ctr(rng, B);

    explicit AutoIntBench(int batch) : B(batch) {
        for (int l = 0; l < 3; ++l) layers.emplace_back(l == 0 ? 16 : 64, 2, 32, rng);
        out = Linear(F * 64, 1, rng);
    }
    std::vector<Var> parameters() const {
        std::vector<Var> p = emb.emb.parameters();
        for (const InteractingLayer& l : layers) append(p, l.parameters());
        append(p, out.parameters());
        return p;
    }
    Var loss(size_t i) {
        const CtrBatch& b = data[i % data.size()];
        Var h = emb(b.x);                                            // (B, F, 16)
        for (InteractingLayer& l : layers) h = l(h);                 // (B, F, 64)
        return bce_with_logits(reshape(out(reshape(h, {B, F * 64})), {B}), b.y);
    }
};

// ---- bert4rec: a BERT encoder over item sequences, masked-item prediction ---------------------
struct Bert4RecBatch {
    Ids input;      // (B*T) item ids, masked positions replaced by the mask id
    Ids positions;  // (B*M) flat positions b*T + t of the masked items
    Ids labels;     // (B*M) the items hidden there
};

struct Bert4RecBench {
    static constexpr int kDefaultBatch = 128, T = 50, D = 64, items = 1700, V = items + 2, M = 10;
    const int B;
    Rng rng{4};
    Embedding tok{V, D, rng, 0.02f};  // 0 = padding, 1..1700 items, 1701 = mask
    PositionalEmbedding pos{T, D, rng, 0.02f};
    LayerNorm ln_in{D};
    std::vector<TransformerEncoderLayer> blocks;
    Linear head_dense{D, D, rng};
    LayerNorm head_ln{D};
    Var out_bias = parameter(Tensor::zeros({V}));
    std::vector<Bert4RecBatch> data;

    explicit Bert4RecBench(int batch) : B(batch) {
        TransformerEncoderLayerOptions o;
        o.dim = D;
        o.heads = 2;
        o.ffn_dim = 256;
        o.dropout = 0.0f;
        for (int l = 0; l < 2; ++l) blocks.emplace_back(o, rng);
        // Full-length sequences with local structure (each item a few ids after the previous
        // one), exactly M of the T positions masked per sequence.
        for (int p = 0; p < kPool; ++p) {
            Bert4RecBatch b;
            for (int s = 0; s < B; ++s) {
                int item = 1 + rng.randint(items);
                Ids seq(T);
                for (int t = 0; t < T; ++t) {
                    item = (item - 1 + 1 + rng.randint(6)) % items + 1;
                    seq[static_cast<size_t>(t)] = item;
                }
                std::vector<int> order = rng.permutation(T);
                std::vector<int> masked(order.begin(), order.begin() + M);
                std::sort(masked.begin(), masked.end());
                for (int t : masked) {
                    b.positions.push_back(s * T + t);
                    b.labels.push_back(seq[static_cast<size_t>(t)]);
                    seq[static_cast<size_t>(t)] = V - 1;
                }
                b.input.insert(b.input.end(), seq.begin(), seq.end());
            }
            data.push_back(std::move(b));
        }
    }
    std::vector<Var> parameters() const {
        std::vector<Var> p = tok.parameters();
        append(p, pos.parameters());
        append(p, ln_in.parameters());
        for (const TransformerEncoderLayer& l : blocks) append(p, l.parameters());
        append(p, head_dense.parameters());
        append(p, head_ln.parameters());
        p.push_back(out_bias);
        return p;
    }
    Var loss(size_t i) {
        const Bert4RecBatch& b = data[i % data.size()];
        Var h = ln_in(pos(tok(b.input, {B, T})));                   // (B, T, D)
        for (TransformerEncoderLayer& l : blocks) h = l(h);          // (B, T, D)
        h = gather_rows(reshape(h, {B * T, D}), b.positions);       // (B M, D): masked positions only
        h = head_ln(gelu(head_dense(h)));                            // BERT's prediction head
        // softmax(h E^T + b) over all V items, tied to the input table: one op (nn/losses.h), the
        // logits (B M, V) = (1280, 1702) never a tensor of their own.
        return linear_softmax_cross_entropy(h, tok.table, out_bias, b.labels);
    }
};

// ---- two_tower: in-batch softmax with the log q correction -----------------------------------
struct TwoTowerBatch {
    Ids user;      // (B*10)
    Ids item;      // (B*5): the item id and its 4 attributes
    Tensor log_q;  // (B) log of the item's sampling probability
};

struct TwoTowerBench {
    static constexpr int kDefaultBatch = 512, V = 1000;
    const int B;
    Rng rng{5};
    FieldEmbedding user_emb{10, V, 16, rng, 0.05f}, item_emb{5, V, 16, rng, 0.05f};
    MLP user_mlp{MLPOptions{{160, 128, 64}}, rng}, item_mlp{MLPOptions{{80, 128, 64}}, rng};
    std::vector<TwoTowerBatch> data;

    explicit TwoTowerBench(int batch) : B(batch) {
        // Zipf(1.1) item popularity; an item's 4 attributes are fixed; log q from the counts.
        std::vector<double> cdf(V);
        double z = 0.0;
        for (int r = 0; r < V; ++r) cdf[static_cast<size_t>(r)] = (z += std::pow(r + 1.0, -1.1));
        std::vector<int> attrs(static_cast<size_t>(V) * 4);
        for (int& a : attrs) a = rng.randint(V);
        std::vector<double> counts(V, 1.0);
        std::vector<Ids> item_of;
        for (int p = 0; p < kPool; ++p) {
            TwoTowerBatch b;
            Ids items;
            for (int i = 0; i < B; ++i) {
                for (int f = 0; f < 10; ++f) b.user.push_back(rng.randint(V));
                const double u = rng.uniform_double() * z;
                const int r = static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
                const int item = (std::min(r, V - 1) + 100 * (b.user[static_cast<size_t>(i) * 10] % 10)) % V;
                items.push_back(item);
                counts[static_cast<size_t>(item)] += 1.0;
                b.item.push_back(item);
                for (int f = 0; f < 4; ++f) b.item.push_back(attrs[static_cast<size_t>(item) * 4 + f]);
            }
            item_of.push_back(std::move(items));
            data.push_back(std::move(b));
        }
        double total = 0.0;
        for (double c : counts) total += c;
        for (int p = 0; p < kPool; ++p) {
            data[static_cast<size_t>(p)].log_q = Tensor({B});
            for (int i = 0; i < B; ++i)
                data[static_cast<size_t>(p)].log_q[static_cast<size_t>(i)] =
                    static_cast<float>(std::log(counts[static_cast<size_t>(item_of[static_cast<size_t>(p)][static_cast<size_t>(i)])] / total));
        }
    }
    std::vector<Var> parameters() const {
        std::vector<Var> p = user_emb.emb.parameters();
        append(p, item_emb.emb.parameters());
        append(p, user_mlp.parameters());
        append(p, item_mlp.parameters());
        return p;
    }
    Var loss(size_t i) {
        const TwoTowerBatch& b = data[i % data.size()];
        Var u = l2_normalize(user_mlp(reshape(user_emb(b.user), {B, 160})));  // (B, 64)
        Var v = l2_normalize(item_mlp(reshape(item_emb(b.item), {B, 80})));   // (B, 64)
        InBatchSoftmaxOptions o;
        o.temperature = 0.05f;
        o.log_q = &b.log_q;
        return in_batch_softmax_loss(matmul(u, v, false, true), o);           // logits (B, B)
    }
};

// ---- How much of a step is GEMM (issue 17) ---------------------------------------------------
// After the timed steps, kAccountSteps more run with the active kernel table's two GEMM entry
// points (sgemm, and linear_forward: the Linear layer's GEMM with its bias) wrapped: each call adds
// its FLOPs, 2 M N K, and its wall time. The counters gemm_gflop and gemm_ms are per step; step_ms
// is those steps' mean, so gemm_ms / step_ms is the share of the step spent in GEMMs.
constexpr int kAccountSteps = 5;

struct GemmAccount {
    static inline const kernels::KernelTable* inner = nullptr;
    static inline double flops = 0.0, seconds = 0.0;

    static void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
                      int ldb, float beta, float* C, int ldc) {
        const auto t0 = std::chrono::steady_clock::now();
        inner->sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        flops += 2.0 * M * N * K;
    }
    static void linear_forward(float* y, const float* x, const float* w, const float* b, int n, int in, int out) {
        const auto t0 = std::chrono::steady_clock::now();
        inner->linear_forward(y, x, w, b, n, in, out);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        flops += 2.0 * n * in * out;
    }
};

// Installs the counting table for its lifetime, and puts the real one back even if a step throws.
struct CountGemms {
    kernels::KernelTable counting;
    CountGemms() : counting(kernels::active()) {
        GemmAccount::inner = &kernels::active();
        GemmAccount::flops = GemmAccount::seconds = 0.0;
        counting.sgemm = GemmAccount::sgemm;
        counting.linear_forward = GemmAccount::linear_forward;
        kernels::set_active_table(counting);
    }
    ~CountGemms() { kernels::set_active_table(*GemmAccount::inner); }
    CountGemms(const CountGemms&) = delete;
    CountGemms& operator=(const CountGemms&) = delete;
};

// One training step per iteration: zero_grad, forward + loss, backward, Adam(lr 1e-3).
template <class Workload>
void bm_train_step(benchmark::State& st, int batch) {
    auto w = std::make_unique<Workload>(batch);
    Adam opt(w->parameters(), AdamOptions{});
    size_t i = 0;
    float first = 0.0f, last = 0.0f;
    auto step = [&] {
        opt.zero_grad();
        Var loss = w->loss(i++);
        backward(loss);
        opt.step();
        return loss.item();
    };
    first = step();
    for (int k = 0; k < 5; ++k) step();  // warm-up: first allocations, caches
    // Each step's wall time too, for the median that torch_ref.py reports: on a loaded machine a
    // mean counts every preemption, and for a step of a millisecond that decides the figure.
    std::vector<double> ms;
    for (auto _ : st) {
        const auto t0 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(last = step());
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    st.counters["median_ms"] = ms.empty() ? 0.0 : (ms[(ms.size() - 1) / 2] + ms[ms.size() / 2]) / 2;
    {
        CountGemms count;
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < kAccountSteps; ++k) step();
        const double total = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        st.counters["step_ms"] = total / kAccountSteps;
        st.counters["gemm_ms"] = GemmAccount::seconds * 1e3 / kAccountSteps;
        st.counters["gemm_gflop"] = GemmAccount::flops / kAccountSteps / 1e9;
    }
    st.counters["loss_first"] = first;   // a sanity check that the model trains
    st.counters["loss_last"] = last;
    st.counters["batch"] = w->B;
}

// The largest --batch: two_tower's (B, B) logits and their gradient are then 2 GB.
constexpr int kMaxBatch = 16384;

// Registers one configuration, timed in wall-clock milliseconds per step (as torch_ref.py's
// perf_counter). batch 0 (no --batch): the configuration's own batch size under its plain name, as
// before the flag existed; otherwise that batch, under "name/batch:N".
template <class Workload>
void add(const std::string& name, int batch) {
    const int b = batch > 0 ? batch : Workload::kDefaultBatch;
    const std::string full = batch > 0 ? name + "/batch:" + std::to_string(batch) : name;
    benchmark::RegisterBenchmark(full.c_str(), [b](benchmark::State& st) { bm_train_step<Workload>(st, b); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
}

// N in [1, kMaxBatch] written with digits only (no sign, space or trailing junk), else 0.
int parse_batch(const std::string& s) {
    if (s.empty() || s.size() > 5) return 0;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
    const int n = std::stoi(s);
    return n <= kMaxBatch ? n : 0;
}

// Finds --batch=N (or --batch N) and removes it from argv, so that Google Benchmark, which refuses
// flags it does not know, never sees it. Returns 0 if absent, -1 (after a one-line error) if N is
// not a whole number in [1, kMaxBatch].
int take_batch_flag(int& argc, char** argv) {
    int batch = 0;
    for (int i = 1; i < argc;) {
        const std::string arg = argv[i];
        int used = 0;
        std::string value;
        if (arg.rfind("--batch=", 0) == 0) {
            value = arg.substr(8), used = 1;
        } else if (arg == "--batch") {
            if (i + 1 < argc) value = argv[i + 1];
            used = 2;
        } else {
            ++i;
            continue;
        }
        batch = parse_batch(value);
        if (batch == 0) {
            std::fprintf(stderr, "%s: error: --batch wants a whole number from 1 to %d, got '%s'\n", argv[0],
                         kMaxBatch, value.c_str());
            return -1;
        }
        for (int j = i; j + used <= argc; ++j) argv[j] = argv[j + used];  // argv[argc] (null) moves too
        argc -= used;
    }
    return batch;
}

void print_help() {
    benchmark::PrintDefaultHelp();
    std::fprintf(stdout,
                 "          [--batch=<N>]  every configuration at batch size N (1 to %d), named name/batch:N;\n"
                 "                         without it each runs at its own batch (256, 256, 256, 128, 512)\n",
                 kMaxBatch);
}

}  // namespace

int main(int argc, char** argv) {
    const int batch = take_batch_flag(argc, argv);
    if (batch < 0) return 2;
    add<CtrMlp>("ctr_mlp", batch);
    add<MmoeBench>("mmoe", batch);
    add<AutoIntBench>("autoint", batch);
    add<Bert4RecBench>("bert4rec", batch);
    add<TwoTowerBench>("two_tower", batch);
    return minirec::run_benchmarks(argc, argv, print_help);
}

// What each fused op of core saves over its plain reference (core/ops_reference.h): one forward
// and backward pass of each, at the sizes of the BERT4Rec training step (B = 128, T = 50, D = 64,
// H = 2, F = 256, C = 1702 items, 10 masked positions per sequence). Run:
//     build/bench/bench_fused_ops --benchmark_repetitions=3
// Deliberately left out: other sizes (pass --benchmark_filter to pick ops, edit kB... to resize).
#include <benchmark/benchmark.h>

#include "bench/bench_main.h"
#include "core/ops.h"
#include "core/ops_reference.h"
#include "core/rng.h"

using namespace minirec;

namespace {

constexpr int kB = 128, kT = 50, kD = 64, kH = 2, kF = 256, kC = 1702, kRows = kB * 10;

Tensor rand_t(const Shape& s, uint64_t seed) {
    Rng rng(seed);
    return Tensor::uniform(s, rng, -1.0f, 1.0f);
}

// One forward and backward pass of f on fresh parameters made from the inputs, per iteration.
template <class F>
void run(benchmark::State& st, const std::vector<Tensor>& inputs, F f) {
    std::vector<Var> xs;
    for (const Tensor& t : inputs) xs.push_back(parameter(t));
    for (auto _ : st) {
        for (Var& x : xs) x.zero_grad();
        Var y = f(xs);
        backward(sum(y));
        benchmark::DoNotOptimize(xs[0].grad().data());
    }
}

const std::vector<Tensor>& linear_in() {
    static const std::vector<Tensor> in{rand_t({kB, kT, kD}, 1), rand_t({kD, kD}, 2), rand_t({kD}, 3)};
    return in;
}
void bm_linear(benchmark::State& st) {
    run(st, linear_in(), [](const std::vector<Var>& v) { return linear(v[0], v[1], &v[2]); });
}
void bm_linear_ref(benchmark::State& st) {
    run(st, linear_in(), [](const std::vector<Var>& v) { return reference::linear(v[0], v[1], &v[2]); });
}

const std::vector<Tensor>& ffn_in() {
    static const std::vector<Tensor> in{rand_t({kB, kT, kD}, 4), rand_t({kD, kF}, 5), rand_t({kF}, 6),
                                        rand_t({kF, kD}, 7), rand_t({kD}, 8)};
    return in;
}
void bm_gelu_ffn(benchmark::State& st) {
    run(st, ffn_in(), [](const std::vector<Var>& v) { return gelu_ffn(v[0], v[1], &v[2], v[3], &v[4]); });
}
void bm_gelu_ffn_ref(benchmark::State& st) {
    run(st, ffn_in(), [](const std::vector<Var>& v) { return reference::gelu_ffn(v[0], v[1], &v[2], v[3], &v[4]); });
}

// Self-attention over Q, K, V packed as one (B, T, 3 H d) tensor, no mask, no dropout.
const std::vector<Tensor>& attn_in() {
    static const std::vector<Tensor> in{rand_t({kB, kT, 3 * kD}, 9)};
    return in;
}
void bm_attention(benchmark::State& st) {
    const Tensor none(Shape{0});
    run(st, attn_in(), [&](const std::vector<Var>& v) {
        return attention({v[0], 0}, {v[0], kD}, {v[0], 2 * kD}, kH, kD / kH, none, none);
    });
}
void bm_attention_ref(benchmark::State& st) {
    const Tensor none(Shape{0});
    run(st, attn_in(), [&](const std::vector<Var>& v) {
        return reference::attention(slice(v[0], 2, 0, kD), slice(v[0], 2, kD, 2 * kD), slice(v[0], 2, 2 * kD, 3 * kD),
                                    kH, none, none);
    });
}

const std::vector<Tensor>& out_in() {
    static const std::vector<Tensor> in{rand_t({kRows, kD}, 10), rand_t({kC, kD}, 11), rand_t({kC}, 12)};
    return in;
}
const Ids& out_targets() {
    static const Ids t = [] {
        Rng rng(13);
        Ids t(kRows);
        for (int32_t& x : t) x = rng.randint(kC);
        return t;
    }();
    return t;
}
void bm_output_loss(benchmark::State& st) {
    run(st, out_in(), [](const std::vector<Var>& v) {
        return linear_softmax_cross_entropy_rows(v[0], v[1], v[2], out_targets(), -100);
    });
}
void bm_output_loss_ref(benchmark::State& st) {
    run(st, out_in(), [](const std::vector<Var>& v) {
        return reference::linear_softmax_cross_entropy_rows(v[0], v[1], v[2], out_targets(), -100);
    });
}

}  // namespace

BENCHMARK(bm_linear_ref)->Name("linear/reference")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_linear)->Name("linear/fused")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_gelu_ffn_ref)->Name("gelu_ffn/reference")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_gelu_ffn)->Name("gelu_ffn/fused")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_attention_ref)->Name("attention/reference")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_attention)->Name("attention/fused")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_output_loss_ref)->Name("output_loss/reference")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_output_loss)->Name("output_loss/fused")->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) { return minirec::run_benchmarks(argc, argv); }

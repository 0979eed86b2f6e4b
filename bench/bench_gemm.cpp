// GEMM and small-kernel benchmarks (Google Benchmark): GFLOP/s of every kernel path, side by side
// with single-threaded OpenBLAS when it is installed (MINIREC_HAVE_OPENBLAS). Run, for medians:
//   build/bench/bench_gemm --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Deliberately left out: multi-threaded runs, timing of the packing alone.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_main.h"
#include "core/kernels.h"
#include "core/rng.h"

#ifdef MINIREC_HAVE_OPENBLAS
#include <cblas.h>
#endif

using namespace minirec;
using namespace minirec::kernels;

namespace {

std::vector<float> random_vec(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Rng rng(seed);
    std::vector<float> v(n);
    for (float& x : v) x = rng.uniform(lo, hi);
    return v;
}

// 2 M N K floating-point operations per GEMM (one multiply and one add per term), reported as a
// rate: Google Benchmark divides by the measured time and prints e.g. "140G/s".
void set_gflops(benchmark::State& st, int M, int N, int K) {
    st.counters["FLOP/s"] = benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate);
}

// C (MxN) = A (MxK) B (KxN), all row-major and untransposed, on one kernel path.
void bm_sgemm(benchmark::State& st, Isa isa, int M, int N, int K) {
    if (!isa_supported(isa)) {
        st.SkipWithError("ISA not supported on this CPU");
        return;
    }
    const KernelTable& t = table(isa);
    const std::vector<float> A = random_vec(static_cast<size_t>(M) * K, 1);
    const std::vector<float> B = random_vec(static_cast<size_t>(K) * N, 2);
    std::vector<float> C(static_cast<size_t>(M) * N);
    for (auto _ : st) {
        t.sgemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
        benchmark::DoNotOptimize(C.data());
        benchmark::ClobberMemory();
    }
    set_gflops(st, M, N, K);
}

// One product as the training steps issue it, transposes included: C (MxN) = op(A) op(B).
void bm_sgemm_t(benchmark::State& st, bool ta, bool tb, int M, int N, int K) {
    const std::vector<float> A = random_vec(static_cast<size_t>(M) * K, 1);
    const std::vector<float> B = random_vec(static_cast<size_t>(K) * N, 2);
    std::vector<float> C(static_cast<size_t>(M) * N);
    const int lda = ta ? M : K, ldb = tb ? K : N;
    for (auto _ : st) {
        kernels::sgemm(ta, tb, M, N, K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), N);
        benchmark::DoNotOptimize(C.data());
        benchmark::ClobberMemory();
    }
    set_gflops(st, M, N, K);
}

#ifdef MINIREC_HAVE_OPENBLAS
void bm_openblas_t(benchmark::State& st, bool ta, bool tb, int M, int N, int K) {
    openblas_set_num_threads(1);
    const std::vector<float> A = random_vec(static_cast<size_t>(M) * K, 1);
    const std::vector<float> B = random_vec(static_cast<size_t>(K) * N, 2);
    std::vector<float> C(static_cast<size_t>(M) * N);
    const int lda = ta ? M : K, ldb = tb ? K : N;
    for (auto _ : st) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                    N, K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), N);
        benchmark::DoNotOptimize(C.data());
        benchmark::ClobberMemory();
    }
    set_gflops(st, M, N, K);
}
#endif

#ifdef MINIREC_HAVE_OPENBLAS
// The same product with OpenBLAS's cblas_sgemm, pinned to one thread as our kernels are.
void bm_openblas(benchmark::State& st, int M, int N, int K) {
    openblas_set_num_threads(1);
    const std::vector<float> A = random_vec(static_cast<size_t>(M) * K, 1);
    const std::vector<float> B = random_vec(static_cast<size_t>(K) * N, 2);
    std::vector<float> C(static_cast<size_t>(M) * N);
    for (auto _ : st) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A.data(), K, B.data(),
                    N, 0.0f, C.data(), N);
        benchmark::DoNotOptimize(C.data());
        benchmark::ClobberMemory();
    }
    set_gflops(st, M, N, K);
}
#endif

// One elementwise kernel over n floats on one path; reports elements per second.
using UnaryKernel = void (*KernelTable::*)(float*, const float*, size_t);
void bm_unary(benchmark::State& st, Isa isa, UnaryKernel f, float lo, float hi) {
    if (!isa_supported(isa)) {
        st.SkipWithError("ISA not supported on this CPU");
        return;
    }
    const size_t n = 4096;
    const std::vector<float> x = random_vec(n, 3, lo, hi);
    std::vector<float> y(n);
    const KernelTable& t = table(isa);
    for (auto _ : st) {
        (t.*f)(y.data(), x.data(), n);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(n));
}

void bm_sum(benchmark::State& st, Isa isa) {
    if (!isa_supported(isa)) {
        st.SkipWithError("ISA not supported on this CPU");
        return;
    }
    const size_t n = 4096;
    const std::vector<float> x = random_vec(n, 4);
    const KernelTable& t = table(isa);
    for (auto _ : st) benchmark::DoNotOptimize(t.sum(x.data(), n));
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(n));
}

// We register by hand so that, for each shape, the paths sit next to each other in the report.
void register_all() {
    struct Shape { int M, N, K; };
    const Shape shapes[] = {{64, 64, 64},    {128, 128, 128}, {256, 256, 256}, {512, 512, 512},
                            {1024, 1024, 1024}, {256, 256, 512}};  // the last: M=256, K=512, N=256
    for (const Shape& s : shapes) {
        const std::string dims = std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K);
        for (Isa isa : {Isa::avx512, Isa::avx2, Isa::scalar}) {
            if (isa == Isa::scalar && s.M > 512) continue;  // seconds per call: not informative
            benchmark::RegisterBenchmark(("sgemm/" + std::string(isa_name(isa)) + "/" + dims).c_str(),
                                         bm_sgemm, isa, s.M, s.N, s.K)->Unit(benchmark::kMicrosecond);
        }
#ifdef MINIREC_HAVE_OPENBLAS
        benchmark::RegisterBenchmark(("sgemm/openblas/" + dims).c_str(), bm_openblas, s.M, s.N, s.K)
            ->Unit(benchmark::kMicrosecond);
#endif
    }
    // The products of one bert4rec training step (B T = 6400 tokens, D = 64, FFN 256, 1280 masked
    // rows, 1702 logits): Linear forward x W, backward gy W^T and x^T gy, and the tied output layer;
    // then two_tower's and ctr_mlp's.
    struct TShape { const char* what; bool ta, tb; int M, N, K; };
    const TShape tshapes[] = {
        {"linear64_fwd", false, false, 6400, 64, 64},   {"linear64_dx", false, true, 6400, 64, 64},
        {"linear64_dw", true, false, 64, 64, 6400},     {"ffn1_fwd", false, false, 6400, 256, 64},
        {"ffn1_dx", false, true, 6400, 64, 256},        {"ffn1_dw", true, false, 64, 256, 6400},
        {"ffn2_fwd", false, false, 6400, 64, 256},      {"ffn2_dx", false, true, 6400, 256, 64},
        {"ffn2_dw", true, false, 256, 64, 6400},        {"qkv_fwd", false, false, 6400, 192, 64},
        {"qkv_dx", false, true, 6400, 64, 192},         {"qkv_dw", true, false, 64, 192, 6400},
        {"attn_s", false, true, 50, 50, 32},            {"attn_pv", false, false, 50, 32, 50},
        {"attn_dv", true, false, 50, 32, 50},           {"tt_user1_fwd", false, false, 512, 128, 160},
        {"tt_user1_dx", false, true, 512, 160, 128},    {"tt_user1_dw", true, false, 160, 128, 512},
        {"tt_logits", false, true, 512, 512, 64},       {"ffnblk_fwd", false, false, 256, 256, 64},
        {"ffnblk_da", false, false, 256, 256, 64},      {"ffnblk_dw1", true, false, 64, 256, 256},       {"tt_logits_du", false, false, 512, 64, 512},        {"logits_fwd", false, true, 1280, 1702, 64},
        {"logits_dh", false, false, 1280, 64, 1702},    {"logits_dE", true, false, 1702, 64, 1280},
        // ctr_mlp's two hidden layers at batch 4096 (160 -> 256 -> 128), the largest of its sweep
        {"ctr1_fwd", false, false, 4096, 256, 160},     {"ctr1_dx", false, true, 4096, 160, 256},
        {"ctr1_dw", true, false, 160, 256, 4096},       {"ctr2_fwd", false, false, 4096, 128, 256},
        {"ctr2_dx", false, true, 4096, 256, 128},       {"ctr2_dw", true, false, 256, 128, 4096}};
    for (const TShape& s : tshapes) {
        benchmark::RegisterBenchmark((std::string("train/minirec/") + s.what).c_str(), bm_sgemm_t, s.ta,
                                     s.tb, s.M, s.N, s.K)->Unit(benchmark::kMicrosecond);
#ifdef MINIREC_HAVE_OPENBLAS
        benchmark::RegisterBenchmark((std::string("train/openblas/") + s.what).c_str(), bm_openblas_t,
                                     s.ta, s.tb, s.M, s.N, s.K)->Unit(benchmark::kMicrosecond);
#endif
    }
    struct Unary { const char* name; UnaryKernel f; float lo, hi; };
    const Unary unaries[] = {{"exp", &KernelTable::exp, -10, 10},         {"log", &KernelTable::log, 1e-3f, 1e3f},
                             {"tanh", &KernelTable::tanh, -5, 5},          {"sigmoid", &KernelTable::sigmoid, -10, 10},
                             {"relu", &KernelTable::relu, -1, 1},          {"erf", &KernelTable::erf, -5, 5},
                             {"gelu", &KernelTable::gelu, -5, 5}};
    for (const Unary& u : unaries)
        for (Isa isa : {Isa::avx512, Isa::avx2, Isa::scalar})
            benchmark::RegisterBenchmark((std::string(u.name) + "/" + isa_name(isa) + "/4096").c_str(),
                                         bm_unary, isa, u.f, u.lo, u.hi);
    for (Isa isa : {Isa::avx512, Isa::avx2, Isa::scalar})
        benchmark::RegisterBenchmark(("sum/" + std::string(isa_name(isa)) + "/4096").c_str(), bm_sum, isa);
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    return minirec::run_benchmarks(argc, argv);
}

// Tests of the kernels and ops added for training speed (book/09_performance.md): the Adam kernel
// agrees bit for bit on every SIMD path with the scalar reference, for every length up to past
// two registers (so each tail size is covered), and with the update rule written out in floats.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/kernels.h"
#include "core/rng.h"

using namespace minirec;
using namespace minirec::kernels;

namespace {

struct AdamState {
    std::vector<float> p, m, v, g;
};

AdamState random_state(size_t n, uint64_t seed) {
    Rng rng(seed);
    AdamState s{std::vector<float>(n), std::vector<float>(n), std::vector<float>(n), std::vector<float>(n)};
    for (size_t k = 0; k < n; ++k) {
        s.p[k] = rng.normal();
        s.m[k] = 0.1f * rng.normal();
        s.v[k] = 0.01f * rng.uniform();
        s.g[k] = rng.normal();
    }
    return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    // memcmp must not see the null data() of an empty vector, even with a zero length.
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_SUITE("kernels") {
    TEST_CASE("adam: every SIMD path matches the scalar update bit for bit, every tail length") {
        const AdamCoefs c{0.9f, 0.1f, 0.999f, 0.001f, -1e-3f / 0.271f, std::sqrt(0.003f), 1e-8f};
        for (Isa isa : {Isa::avx2, Isa::avx512}) {
            if (!isa_supported(isa)) {
                MESSAGE("skipping ", isa_name(isa), ": not supported on this CPU");
                continue;
            }
            for (size_t n = 0; n <= 40; ++n) {
                AdamState ref = random_state(n, 7 + n), simd = ref;
                table(Isa::scalar).adam(ref.p.data(), ref.m.data(), ref.v.data(), ref.g.data(), n, c);
                table(isa).adam(simd.p.data(), simd.m.data(), simd.v.data(), simd.g.data(), n, c);
                CAPTURE(n);
                CHECK(same_bits(ref.p, simd.p));
                CHECK(same_bits(ref.m, simd.m));
                CHECK(same_bits(ref.v, simd.v));
            }
        }
    }

    TEST_CASE("adam: the scalar kernel is the update rule") {
        const AdamCoefs c{0.9f, 0.1f, 0.999f, 0.001f, -0.01f, 0.5f, 1e-8f};
        AdamState s = random_state(5, 3);
        const AdamState before = s;
        table(Isa::scalar).adam(s.p.data(), s.m.data(), s.v.data(), s.g.data(), 5, c);
        for (size_t k = 0; k < 5; ++k) {
            const float m = before.m[k] * 0.9f + 0.1f * before.g[k];
            const float v = before.v[k] * 0.999f + 0.001f * (before.g[k] * before.g[k]);
            CHECK(s.m[k] == m);
            CHECK(s.v[k] == v);
            CHECK(s.p[k] == before.p[k] + -0.01f * m / (std::sqrt(v) / 0.5f + 1e-8f));
        }
    }
}

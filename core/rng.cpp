// PCG32 (XSH-RR variant, O'Neill 2014), seeded through splitmix64. Only integer arithmetic
// decides the bits, so every machine and compiler produces the same sequence.
#include "core/rng.h"

#include <cmath>

#include "core/error.h"

namespace minirec {

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

Rng::Rng(uint64_t seed, uint64_t stream) {
    // The increment must be odd; the state starts from a mixed seed, then we step once.
    inc_ = (splitmix64(stream) << 1u) | 1u;
    state_ = splitmix64(seed) + inc_;
    next_u32();
}

uint32_t Rng::next_u32() {
    const uint64_t old = state_;
    state_ = old * 6364136223846793005ull + inc_;
    const uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
    const uint32_t rot = static_cast<uint32_t>(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

uint64_t Rng::next_u64() { return (static_cast<uint64_t>(next_u32()) << 32) | next_u32(); }

float Rng::uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }

float Rng::uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }

double Rng::uniform_double() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

int Rng::randint(int n) {
    if (n <= 0) arg_fail("Rng::randint", "n must be positive, got " + std::to_string(n));
    // Lemire's multiply-and-reject: unbiased, usually one draw.
    uint64_t m = static_cast<uint64_t>(next_u32()) * static_cast<uint32_t>(n);
    uint32_t low = static_cast<uint32_t>(m);
    if (low < static_cast<uint32_t>(n)) {
        const uint32_t threshold = static_cast<uint32_t>(-static_cast<uint32_t>(n)) % static_cast<uint32_t>(n);
        while (low < threshold) {
            m = static_cast<uint64_t>(next_u32()) * static_cast<uint32_t>(n);
            low = static_cast<uint32_t>(m);
        }
    }
    return static_cast<int>(m >> 32);
}

float Rng::normal() {
    // Box-Muller: two uniforms give two independent normals; we return one and keep the other.
    if (has_spare_) {
        has_spare_ = false;
        return static_cast<float>(spare_);
    }
    double u1 = uniform_double();
    while (u1 <= 0.0) u1 = uniform_double();  // log(0) is -inf
    const double u2 = uniform_double();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 6.283185307179586 * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return static_cast<float>(r * std::cos(theta));
}

float Rng::normal(float mean, float stddev) { return mean + stddev * normal(); }

bool Rng::bernoulli(float p) { return uniform() < p; }

std::vector<int> Rng::permutation(int n) {
    std::vector<int> p(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
    shuffle(p);
    return p;
}

Rng Rng::split() { return Rng(next_u64(), next_u64()); }

}  // namespace minirec

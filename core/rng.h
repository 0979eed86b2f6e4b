// Our own seeded random numbers: the same seed gives the same bits on every machine.
// PCG32 (O'Neill 2014) seeded through splitmix64; floats from the top 24 bits; normals by
// Box-Muller in double precision. We never use std::*_distribution: its output differs between
// standard libraries.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace minirec {

class Rng {
public:
    explicit Rng(uint64_t seed = 42, uint64_t stream = 54);

    uint32_t next_u32();                 // uniform over all 2^32 values
    uint64_t next_u64();                 // two draws glued together
    float uniform();                     // [0, 1), multiples of 2^-24
    float uniform(float lo, float hi);   // [lo, hi)
    double uniform_double();             // [0, 1), multiples of 2^-53
    int randint(int n);                  // [0, n), unbiased (Lemire's method), n > 0
    float normal();                      // N(0, 1)
    float normal(float mean, float stddev);
    bool bernoulli(float p);             // true with probability p

    // Fisher-Yates shuffle of v in place.
    template <class T>
    void shuffle(std::vector<T>& v) {
        for (size_t i = v.size(); i > 1; --i) {
            size_t j = static_cast<size_t>(randint(static_cast<int>(i)));
            std::swap(v[i - 1], v[j]);
        }
    }

    // 0, 1, ..., n-1 in random order.
    std::vector<int> permutation(int n);

    // A new generator whose stream is derived from this one (for independent sub-streams).
    Rng split();

private:
    uint64_t state_ = 0;
    uint64_t inc_ = 0;
    bool has_spare_ = false;  // Box-Muller makes normals in pairs; we keep the second one
    double spare_ = 0.0;
};

// splitmix64: the mixing function we seed with; also handy to hash (seed, index) pairs.
uint64_t splitmix64(uint64_t x);

}  // namespace minirec

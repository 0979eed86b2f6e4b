// Named parameter and buffer lists: what optimizers update and what checkpoints save by name.
// Every layer returns its parameters as (name, Var) pairs; nested layers prefix their children's
// names ("mlp.0.weight"). Deliberately left out: a Module base class, hooks, registries.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"

namespace minirec {

// (name, parameter) pairs. The Var is a shared handle: updating it updates the layer.
using NamedParams = std::vector<std::pair<std::string, Var>>;
// (name, state that is saved but not trained), e.g. BatchNorm's running mean. The pointer is
// into the layer, so the layer must outlive the list (and not move while it is used).
using NamedBuffers = std::vector<std::pair<std::string, Tensor*>>;

// dst += src, in order.
template <class T>
inline void append(std::vector<T>& dst, const std::vector<T>& src) {
    dst.insert(dst.end(), src.begin(), src.end());
}

// The Vars of a named list, in order: what parameters() returns.
inline std::vector<Var> vars_of(const NamedParams& named) {
    std::vector<Var> out;
    out.reserve(named.size());
    for (const auto& p : named) out.push_back(p.second);
    return out;
}

}  // namespace minirec

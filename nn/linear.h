// The basic layers: initialisers, Linear, Embedding, EmbeddingBag, Dropout, activations and MLP.
// Each layer is a plain struct: parameters as Vars, operator() for the forward pass.
// Deliberately left out: sparse gradients, padding indices, weight tying helpers, lazy shapes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/norm.h"
#include "nn/params.h"

namespace minirec {

// ---- Initialisers ----------------------------------------------------------------------------
// Xavier/Glorot uniform (Glorot & Bengio 2010): U(-a, a), a = sqrt(6 / (fan_in + fan_out)), keeps
// the variance of activations and gradients about equal for tanh/sigmoid/linear layers.
Tensor xavier_uniform(Shape shape, int fan_in, int fan_out, Rng& rng);
// Kaiming/He uniform (He et al. 2015): U(-a, a), a = sqrt(6 / fan_in), for layers followed by ReLU.
Tensor kaiming_uniform(Shape shape, int fan_in, Rng& rng);

enum class Init { xavier_uniform, kaiming_uniform };

// ---- Linear ----------------------------------------------------------------------------------
// y = x W + b, x (..., in) -> y (..., out). W is stored (in, out) so the forward is one matmul
// with no transpose. W starts Xavier (or Kaiming) uniform, b at 0.
struct Linear {
    Var weight;  // (in, out)
    Var bias;    // (out); unused when has_bias is false
    bool has_bias = true;

    Linear() = default;
    Linear(int in, int out, Rng& rng, bool bias = true, Init init = Init::xavier_uniform);

    Var operator()(const Var& x) const;  // (..., in) -> (..., out)
    int in_features() const { return weight.dim(0); }
    int out_features() const { return weight.dim(1); }

    NamedParams named_parameters(const std::string& prefix = "") const;  // weight, bias
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

// Several Linears of the same input as ONE GEMM: x (..., in) -> (..., out_1 + ... + out_m), the
// outputs side by side, equal to concatenating l_1(x), ..., l_m(x) on the last axis. The layers
// keep their own parameters (and gradients); a transformer's Q, K, V projections use it.
Var linear_cat(const Var& x, const std::vector<const Linear*>& layers);

// ---- Embedding -------------------------------------------------------------------------------
// A table of N rows of size D; looking up ids returns their rows. Rows start N(0, init_std^2)
// (0.02 as BERT). The backward adds each row's gradient into the table (dense, not sparse).
struct Embedding {
    Var table;  // (N, D)

    Embedding() = default;
    Embedding(int num, int dim, Rng& rng, float init_std = 0.02f);

    Var operator()(const Ids& ids) const;                        // (n) -> (n, D)
    // ids laid out as id_shape (e.g. {B, F} or {B, T}) -> (id_shape..., D), e.g. (B, F, D).
    Var operator()(const Ids& ids, const Shape& id_shape) const;
    int num() const { return table.dim(0); }
    int dim() const { return table.dim(1); }

    NamedParams named_parameters(const std::string& prefix = "") const;  // table
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

// ---- EmbeddingBag ----------------------------------------------------------------------------
// Multi-hot fields (a user's genres, an item's tags): bag s owns ids[offsets[s] .. offsets[s+1])
// and becomes one vector, the sum or mean of its rows, optionally weighted per id:
//     sum:  e_s = sum_i w_i E[ids_i]          mean: e_s = sum_i w_i E[ids_i] / n_s
// (n_s is the number of ids in the bag; w_i = 1 without weights). An empty bag gives 0.
enum class BagMode { sum, mean };

struct EmbeddingBag {
    Var table;  // (N, D)
    BagMode mode = BagMode::mean;

    EmbeddingBag() = default;
    EmbeddingBag(int num, int dim, Rng& rng, BagMode mode = BagMode::mean, float init_std = 0.02f);

    // offsets has S+1 entries, 0 first and ids.size() last; per_id_weights (optional) has one
    // weight per id. -> (S, D).
    Var operator()(const Ids& ids, const std::vector<int>& offsets,
                   const std::vector<float>* per_id_weights = nullptr) const;

    NamedParams named_parameters(const std::string& prefix = "") const;  // table
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

// ---- Dropout ---------------------------------------------------------------------------------
// Inverted dropout (Srivastava et al. 2014): in training each element is zeroed with probability
// p and the survivors are scaled by 1/(1-p), so evaluation is the identity. The layer owns its
// seeded Rng, so a run is reproducible. Mode: the member `training` (true after construction).
struct Dropout {
    float p = 0.0f;
    bool training = true;
    Rng rng;

    Dropout() = default;
    Dropout(float p, Rng& parent);    // draws its own stream from parent (parent.split())
    Dropout(float p, uint64_t seed);

    Var operator()(const Var& x);     // any shape; non-const: it draws from rng
};

// ---- Activations -----------------------------------------------------------------------------
enum class Activation { none, relu, tanh, sigmoid, gelu };
Var activate(const Var& x, Activation a);
Activation parse_activation(const std::string& name);  // "relu", "tanh", "sigmoid", "gelu", "none"
const char* activation_name(Activation a);

// ---- MLP -------------------------------------------------------------------------------------
// sizes {in, h1, ..., out}: one Linear per consecutive pair. Each hidden layer is
//     h = Dropout(act(BatchNorm(h W + b)))       (BatchNorm only when batch_norm is set)
// and the last layer is a plain Linear (logits) unless activate_last, when it is a hidden one
// too (expert networks, towers). Linear layers followed by ReLU start Kaiming uniform, the
// others Xavier uniform.
struct MLPOptions {
    std::vector<int> sizes;                 // at least {in, out}
    Activation activation = Activation::relu;
    float dropout = 0.0f;                   // after every activated layer
    bool batch_norm = false;                // between the Linear and the activation
    bool activate_last = false;             // false: the last layer is a plain Linear
};

struct MLP {
    MLPOptions options;
    std::vector<Linear> linears;    // one per layer
    std::vector<BatchNorm> norms;   // one per activated layer when batch_norm, else empty
    std::vector<Dropout> dropouts;  // one per activated layer

    MLP() = default;
    MLP(const MLPOptions& options, Rng& rng);

    Var operator()(const Var& x);  // (..., in) -> (..., out); non-const (dropout, batch-norm)
    // Mode: set the `training` flag of every Dropout and BatchNorm inside.
    void set_training(bool on);

    // "0.weight", "0.bias", "0.bn.gamma", ..., one group per layer.
    NamedParams named_parameters(const std::string& prefix = "") const;
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
    NamedBuffers buffers(const std::string& prefix = "");  // the batch-norm running statistics
};

}  // namespace minirec

// Linear, Embedding, EmbeddingBag, Dropout, activations and MLP, composed from core/ops.h.
// The gradients come from the ops; this file only wires shapes and initialises parameters.
// Deliberately left out: fused kernels (they live in core/ops_fused.cpp).
#include "nn/linear.h"

#include <algorithm>
#include <cmath>

namespace minirec {

// ---- Initialisers ----------------------------------------------------------------------------

Tensor xavier_uniform(Shape shape, int fan_in, int fan_out, Rng& rng) {
    const float a = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
    return Tensor::uniform(std::move(shape), rng, -a, a);
}

Tensor kaiming_uniform(Shape shape, int fan_in, Rng& rng) {
    const float a = std::sqrt(6.0f / static_cast<float>(fan_in));
    return Tensor::uniform(std::move(shape), rng, -a, a);
}

// ---- Linear ----------------------------------------------------------------------------------

Linear::Linear(int in, int out, Rng& rng, bool bias_, Init init) : has_bias(bias_) {
    if (in <= 0 || out <= 0)
        arg_fail("Linear", "sizes must be positive, got " + std::to_string(in) + " -> " +
                               std::to_string(out));
    weight = parameter(init == Init::kaiming_uniform ? kaiming_uniform({in, out}, in, rng)
                                                     : xavier_uniform({in, out}, in, out, rng));
    if (has_bias) bias = parameter(Tensor::zeros({out}));
}

// Several Linears of one input as one GEMM: the fast op linear_cat in core/ops_fused.cpp
// (reference::linear_cat in core/ops_reference.cpp is the concatenation of the layers).
Var linear_cat(const Var& x, const std::vector<const Linear*>& layers) {
    if (layers.empty()) arg_fail("linear_cat", "no layers");
    const int in = layers[0]->in_features();
    if (x.rank() < 2 || x.dim(-1) != in)
        shape_fail("linear_cat", x.shape(), layers[0]->weight.shape(),
                   "x must be (..., " + std::to_string(in) + ")");
    std::vector<Var> weights, biases;
    for (const Linear* l : layers) {
        if (l->in_features() != in || l->has_bias != layers[0]->has_bias)
            arg_fail("linear_cat", "the layers must share in_features and the use of a bias");
        weights.push_back(l->weight);
        if (l->has_bias) biases.push_back(l->bias);
    }
    return linear_cat(x, weights, biases);  // (..., out_1 + ... + out_m)
}

// y = x W + b. linear() is the fused op in core/ops_fused.cpp (one GEMM that adds b as it
// writes y); reference::linear in core/ops_reference.cpp is the plain matmul(x, W) + b.
Var Linear::operator()(const Var& x) const {
    const int in = in_features(), out = out_features();
    if (x.rank() < 1 || x.dim(-1) != in)
        shape_fail("Linear", x.shape(), weight.shape(), "last axis of x must equal W's rows");
    const Var* b = has_bias ? &bias : nullptr;
    if (x.rank() >= 2) return linear(x, weight, b);     // (..., out)
    return reshape(linear(reshape(x, {1, in}), weight, b), {out});  // a single vector (in): as one row
}

NamedParams Linear::named_parameters(const std::string& prefix) const {
    NamedParams p{{prefix + "weight", weight}};
    if (has_bias) p.push_back({prefix + "bias", bias});
    return p;
}

// ---- Embedding -------------------------------------------------------------------------------

Embedding::Embedding(int num, int dim, Rng& rng, float init_std) {
    if (num <= 0 || dim <= 0)
        arg_fail("Embedding", "sizes must be positive, got " + std::to_string(num) + " x " +
                                  std::to_string(dim));
    table = parameter(Tensor::normal({num, dim}, rng, 0.0f, init_std));
}

Var Embedding::operator()(const Ids& ids) const { return gather_rows(table, ids); }  // (n, D)

Var Embedding::operator()(const Ids& ids, const Shape& id_shape) const {
    if (numel(id_shape) != ids.size())
        arg_fail("Embedding", "id_shape " + shape_str(id_shape) + " holds " +
                                  std::to_string(numel(id_shape)) + " ids but " +
                                  std::to_string(ids.size()) + " were given");
    Shape out = id_shape;
    out.push_back(dim());
    return reshape(gather_rows(table, ids), out);  // (id_shape..., D)
}

NamedParams Embedding::named_parameters(const std::string& prefix) const {
    return {{prefix + "table", table}};
}

// ---- EmbeddingBag ----------------------------------------------------------------------------

EmbeddingBag::EmbeddingBag(int num, int dim, Rng& rng, BagMode mode_, float init_std)
    : mode(mode_) {
    if (num <= 0 || dim <= 0)
        arg_fail("EmbeddingBag", "sizes must be positive, got " + std::to_string(num) + " x " +
                                     std::to_string(dim));
    table = parameter(Tensor::normal({num, dim}, rng, 0.0f, init_std));
}

Var EmbeddingBag::operator()(const Ids& ids, const std::vector<int>& offsets,
                             const std::vector<float>* per_id_weights) const {
    // segment_sum / segment_mean check the offsets, the ids and the weights.
    return mode == BagMode::sum ? segment_sum(table, ids, offsets, per_id_weights)
                                : segment_mean(table, ids, offsets, per_id_weights);  // (S, D)
}

NamedParams EmbeddingBag::named_parameters(const std::string& prefix) const {
    return {{prefix + "table", table}};
}

// ---- Dropout ---------------------------------------------------------------------------------

static void check_dropout_p(float p) {
    if (!(p >= 0.0f && p < 1.0f))
        arg_fail("Dropout", "p must be in [0, 1), got " + std::to_string(p));
}

Dropout::Dropout(float p_, Rng& parent) : p(p_), rng(parent.split()) { check_dropout_p(p_); }
Dropout::Dropout(float p_, uint64_t seed) : p(p_), rng(seed) { check_dropout_p(p_); }

Var Dropout::operator()(const Var& x) {
    if (!training || p == 0.0f) return x;  // the identity: no node, no random draws
    return dropout(x, p, training, rng);
}

// ---- Activations -----------------------------------------------------------------------------

Var activate(const Var& x, Activation a) {
    switch (a) {
        case Activation::relu: return relu(x);
        case Activation::tanh: return tanh(x);
        case Activation::sigmoid: return sigmoid(x);
        case Activation::gelu: return gelu(x);
        case Activation::none: break;
    }
    return x;
}

Activation parse_activation(const std::string& name) {
    for (Activation a : {Activation::none, Activation::relu, Activation::tanh,
                         Activation::sigmoid, Activation::gelu})
        if (name == activation_name(a)) return a;
    arg_fail("parse_activation",
             "unknown activation '" + name + "' (expected none, relu, tanh, sigmoid or gelu)");
}

const char* activation_name(Activation a) {
    switch (a) {
        case Activation::relu: return "relu";
        case Activation::tanh: return "tanh";
        case Activation::sigmoid: return "sigmoid";
        case Activation::gelu: return "gelu";
        case Activation::none: break;
    }
    return "none";
}

// ---- MLP -------------------------------------------------------------------------------------

MLP::MLP(const MLPOptions& opt, Rng& rng) : options(opt) {
    const std::vector<int>& s = opt.sizes;
    if (s.size() < 2) arg_fail("MLP", "sizes needs at least {in, out}");
    const int layers = static_cast<int>(s.size()) - 1;
    for (int l = 0; l < layers; ++l) {
        const bool activated = l + 1 < layers || opt.activate_last;
        const Init init = activated && opt.activation == Activation::relu ? Init::kaiming_uniform
                                                                           : Init::xavier_uniform;
        linears.emplace_back(s[l], s[l + 1], rng, true, init);
        if (!activated) continue;
        if (opt.batch_norm) norms.emplace_back(s[l + 1]);
        dropouts.emplace_back(opt.dropout, rng);
    }
}

Var MLP::operator()(const Var& x) {
    Var h = x;                                       // (..., in)
    for (size_t l = 0; l < linears.size(); ++l) {
        h = linears[l](h);                           // (..., sizes[l+1])
        if (l >= dropouts.size()) break;             // the plain last layer
        if (options.batch_norm) h = norms[l](h);
        h = dropouts[l](activate(h, options.activation));
    }
    return h;                                        // (..., out)
}

void MLP::set_training(bool on) {
    for (BatchNorm& n : norms) n.training = on;
    for (Dropout& d : dropouts) d.training = on;
}

NamedParams MLP::named_parameters(const std::string& prefix) const {
    NamedParams p;
    for (size_t l = 0; l < linears.size(); ++l) {
        const std::string pre = prefix + std::to_string(l) + ".";
        append(p, linears[l].named_parameters(pre));
        if (l < norms.size()) append(p, norms[l].named_parameters(pre + "bn."));
    }
    return p;
}

NamedBuffers MLP::buffers(const std::string& prefix) {
    NamedBuffers b;
    for (size_t l = 0; l < norms.size(); ++l)
        append(b, norms[l].buffers(prefix + std::to_string(l) + ".bn."));
    return b;
}

}  // namespace minirec

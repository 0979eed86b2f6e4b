// Linear, Embedding, EmbeddingBag, Dropout, activations and MLP, composed from core/ops.h.
// The gradients come from the ops; this file only wires shapes and initialises parameters,
// except for Linear's forward and backward, which are written out as one op for speed.
// Deliberately left out: other fused kernels.
#include "nn/linear.h"

#include <algorithm>
#include <cmath>

#include "core/kernels.h"

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

// Column block [from, from + width) of a row-major (rows, ld) matrix, copied to or from a
// (rows, width) one: how a concatenated weight [W_1 | W_2 | ...] is assembled and its
// gradient split back.
static void copy_columns(float* dst, int ld_dst, const float* src, int ld_src, int rows, int width) {
    for (int r = 0; r < rows; ++r)
        std::copy(src + static_cast<size_t>(r) * ld_src, src + static_cast<size_t>(r) * ld_src + width,
                  dst + static_cast<size_t>(r) * ld_dst);
}

// y = x W + b over the rows of x seen as (n, in), as ONE graph node, for one Linear or for
// several of the same input side by side, W = [W_1 | ... | W_m], b = [b_1 | ... | b_m]:
//   forward:  y = x W + b                            (one GEMM that adds b as it writes y)
//   backward: dx = gy W^T,  dW = x^T gy,  db = sum over the rows of gy  (split into the m layers)
// It is the same as matmul(x, W) + b, but that made two (n, out) results and, in the backward
// pass, a copy of gy for the add; a Linear runs in every layer of every model, so we fuse it.
// For m > 1 (a transformer's Q, K, V projections) x is read once and the backward makes one dx
// instead of m to add up; the concatenated W and b are small copies made per call.
static Var linear_op(const Var& x, const std::vector<const Linear*>& layers) {
    const int in = layers[0]->in_features();
    const bool has_bias = layers[0]->has_bias;
    std::vector<int> from;  // first column of each layer in y
    int out = 0;
    for (const Linear* l : layers) {
        if (l->in_features() != in || l->has_bias != has_bias)
            arg_fail("linear_cat", "the layers must share in_features and the use of a bias");
        from.push_back(out);
        out += l->out_features();
    }
    // One layer: its own W and b. Several: [W_1 | ... | W_m] (in, out) and [b_1 | ... | b_m] (out).
    Tensor W_cat(Shape{0}), b_cat(Shape{0});
    const float* W = layers[0]->weight.value().data();
    const float* b = has_bias ? layers[0]->bias.value().data() : nullptr;
    if (layers.size() > 1) {
        W_cat = Tensor::uninitialized({in, out});
        if (has_bias) b_cat = Tensor::uninitialized({out});
        for (size_t i = 0; i < layers.size(); ++i) {
            const int w = layers[i]->out_features();
            copy_columns(W_cat.data() + from[i], out, layers[i]->weight.value().data(), w, in, w);
            if (has_bias) copy_columns(b_cat.data() + from[i], out, layers[i]->bias.value().data(), w, 1, w);
        }
        W = W_cat.data();
        b = has_bias ? b_cat.data() : nullptr;
    }
    const int n = static_cast<int>(x.size() / static_cast<size_t>(in));  // rows: every leading axis
    Shape y_shape = x.shape();
    y_shape.back() = out;
    Tensor y = Tensor::uninitialized(y_shape);  // (..., out); the kernel writes every element
    kernels::linear_forward(y.data(), x.value().data(), W, b, n, in, out);
    std::vector<Var> parents{x}, weights, biases;
    for (const Linear* l : layers) {
        weights.push_back(l->weight);
        parents.push_back(l->weight);
        if (has_bias) biases.push_back(l->bias), parents.push_back(l->bias);
    }
    Var r = make_result(std::move(y), parents, layers.size() > 1 ? "linear_cat" : "linear");
    r.set_backward([x, W_cat = std::move(W_cat), weights, biases, from, n, in, out](const Tensor& gy) {
        if (x.requires_grad()) {  // dx (n, in) = gy (n, out) W^T
            const float* W = weights.size() > 1 ? W_cat.data() : weights[0].value().data();
            Tensor dx = Tensor::uninitialized(x.shape());  // written by the beta = 0 GEMM
            kernels::sgemm(false, true, n, in, out, 1.0f, gy.data(), out, W, out, 0.0f, dx.data(), in);
            x.accumulate_grad(std::move(dx));
        }
        bool need_dw = false;
        for (const Var& w : weights) need_dw = need_dw || w.requires_grad();
        if (need_dw) {  // dW (in, out) = x^T (in, n) gy (n, out), then a block per layer
            Tensor dW = Tensor::uninitialized({in, out});  // written by the beta = 0 GEMM
            kernels::sgemm(true, false, in, out, n, 1.0f, x.value().data(), in, gy.data(), out, 0.0f,
                           dW.data(), out);
            if (weights.size() == 1) weights[0].accumulate_grad(std::move(dW));
            for (size_t i = 0; weights.size() > 1 && i < weights.size(); ++i) {
                Tensor dWi = Tensor::uninitialized(weights[i].shape());
                copy_columns(dWi.data(), weights[i].dim(1), dW.data() + from[i], out, in, weights[i].dim(1));
                weights[i].accumulate_grad(std::move(dWi));
            }
        }
        bool need_db = false;
        for (const Var& b : biases) need_db = need_db || b.requires_grad();
        if (need_db) {  // db (out) = the column sums of gy, then a block per layer
            // As a GEMM, db (1, out) = 1 (1, n) gy (n, out): one pass over gy, a register per 16
            // columns, instead of n calls that each add one row.
            std::vector<float> db(static_cast<size_t>(out)), ones(static_cast<size_t>(n), 1.0f);
            kernels::sgemm(false, false, 1, out, n, 1.0f, ones.data(), n, gy.data(), out, 0.0f, db.data(), out);
            for (size_t i = 0; i < biases.size(); ++i) {
                Tensor dbi = Tensor::uninitialized(biases[i].shape());
                std::copy(db.begin() + from[i], db.begin() + from[i] + biases[i].dim(0), dbi.data());
                biases[i].accumulate_grad(std::move(dbi));
            }
        }
    });
    return r;
}

Var linear_cat(const Var& x, const std::vector<const Linear*>& layers) {
    if (layers.empty()) arg_fail("linear_cat", "no layers");
    const int in = layers[0]->in_features();
    if (x.rank() < 2 || x.dim(-1) != in)
        shape_fail("linear_cat", x.shape(), layers[0]->weight.shape(),
                   "x must be (..., " + std::to_string(in) + ")");
    return linear_op(x, layers);
}

Var Linear::operator()(const Var& x) const {
    const int in = in_features(), out = out_features();
    if (x.rank() < 1 || x.dim(-1) != in)
        shape_fail("Linear", x.shape(), weight.shape(), "last axis of x must equal W's rows");
    if (x.rank() >= 2) return linear_op(x, {this});  // (..., out)
    // A single vector (in): as one row.
    Var y = reshape(linear_op(reshape(x, {1, in}), {this}), {out});
    return y;
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

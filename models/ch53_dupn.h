// DUPN, the Deep User Perception Network of Ni et al. (KDD 2018): a behaviour sequence (item with
// its side features, plus a behaviour property: type and time) runs through an LSTM; an attention
// net that sees the query and the user weighs the LSTM states into one universal user
// representation, which several task heads share and train jointly.
// Deliberately left out: the paper's property-gated LSTM (the property enters only the gates there;
// here it is concatenated to the input, so it reaches the gates and the candidate alike), the
// peephole connections, the query as a bag of words (one query id here), the learning-to-rank and
// fashion-icon tasks, and the paper's billion-scale tricks (model and batch sizes, BN).
//
// The steps, named after the paper's sections (labels [E], [L], [A], [R], [M] are ours):
//   [E] behaviour embedding   x_t = [e_item(i_t) ; e_property(p_t)]   item = id + category + price
//                             level, property = behaviour type + time bucket
//   [L] LSTM                  h_t = LSTM(x_t, h_{t-1})                (B, T, H)
//   [A] attention net         a_t = exp(score_t) / sum_k exp(score_k),
//                             score_t = v^T tanh(W_h h_t + W_q q + W_u u + b)  (query- and user-aware)
//   [R] representation        rep = [sum_t a_t h_t ; u]   the universal user representation (B, H + d):
//                             the attention's summary with the user vector u concatenated
//   [M] multi-task learning   L = sum_tasks L_task, every head on rep (CTR with the candidate item,
//                             whose embedding is e_item, shared with [E] and across tasks; price
//                             preference, shop preference), trained end to end.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "core/metrics.h"
#include "nn/optim.h"

namespace minirec {
namespace ch53 {

// The vocabularies of the behaviour fields and the sizes of the network.
struct DupnOptions {
    int items = 0, categories = 0, prices = 0;   // item id and its side features
    int types = 0, times = 0;                    // the behaviour property: type and time bucket
    int queries = 0, profiles = 0;               // query ids (here: categories) and user profile groups
    int dim = 8;                                 // d, each field's embedding size
    int hidden = 16;                             // H, the LSTM state and the representation size
    int attention = 16;                          // A, the attention net's hidden size
};

// One batch of behaviour sequences, all of length T (row-major (B, T) ids), with a query and a
// profile per row. The item's side features are looked up by the caller and passed alongside.
struct Behaviours {
    int B = 0, T = 0;
    Ids item, category, price, type, time;   // (B * T) each
    Ids query, profile;                      // (B) each
};

// [E] behaviour embedding, x_t = [item fields ; property fields]  (B, T, 5d).
struct BehaviourEmbedding {
    Embedding item, category, price, type, time;

    BehaviourEmbedding() = default;
    BehaviourEmbedding(const DupnOptions& o, Rng& rng)
        : item(o.items, o.dim, rng, 0.1f), category(o.categories, o.dim, rng, 0.1f), price(o.prices, o.dim, rng, 0.1f),
          type(o.types, o.dim, rng, 0.1f), time(o.times, o.dim, rng, 0.1f) {}

    Var operator()(const Behaviours& b) const {
        const Shape s = {b.B, b.T};
        return concat({item(b.item, s), category(b.category, s), price(b.price, s), type(b.type, s), time(b.time, s)}, 2);
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = item.named_parameters(prefix + "item.");
        append(p, category.named_parameters(prefix + "category."));
        append(p, price.named_parameters(prefix + "price."));
        append(p, type.named_parameters(prefix + "type."));
        append(p, time.named_parameters(prefix + "time."));
        return p;
    }
};

// [A] and [R]: the attention net over the LSTM states. h (B, T, H), q (B, Dq), u (B, Du) ->
// rep (B, H); the weights a (B, T) on request.
struct AttentionNet {
    Linear w_h, w_q, w_u;   // H -> A (with the bias b), Dq -> A, Du -> A
    Linear v;               // A -> 1

    AttentionNet() = default;
    AttentionNet(int hidden, int query_dim, int user_dim, int att, Rng& rng)
        : w_h(hidden, att, rng), w_q(query_dim, att, rng, false), w_u(user_dim, att, rng, false), v(att, 1, rng, false) {}

    Var operator()(const Var& h, const Var& q, const Var& u, Var* weights = nullptr) const {
        const int B = h.dim(0), T = h.dim(1), A = v.in_features();
        const Var qu = reshape(w_q(q) + w_u(u), {B, 1, A});                  // (B, 1, A)
        const Var score = reshape(v(tanh(w_h(h) + qu)), {B, 1, T});           // (B, 1, T) score_t [A]
        const Var a = softmax(score);                                         // (B, 1, T) a_t     [A]
        if (weights) *weights = reshape(a, {B, T});
        return squeeze(matmul(a, h), 1);                                      // (B, H)    rep     [R]
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = w_h.named_parameters(prefix + "w_h.");
        append(p, w_q.named_parameters(prefix + "w_q."));
        append(p, w_u.named_parameters(prefix + "w_u."));
        append(p, v.named_parameters(prefix + "v."));
        return p;
    }
};

// The shared part of DUPN: behaviours -> universal user representation ([E], [L], [A], [R]).
struct DUPN {
    DupnOptions opt;
    BehaviourEmbedding embed;
    LSTM lstm;                    // 5d -> H, [L]
    Embedding query, profile;     // (Q, d), (P, d)
    AttentionNet attention;       // [A], [R]

    DUPN() = default;
    DUPN(const DupnOptions& o, Rng& rng) : opt(o) {
        if (o.items < 1 || o.categories < 1 || o.prices < 1 || o.types < 1 || o.times < 1 || o.queries < 1 ||
            o.profiles < 1 || o.dim < 1 || o.hidden < 1 || o.attention < 1)
            arg_fail("ch53::DUPN", "every vocabulary and size must be >= 1");
        embed = BehaviourEmbedding(o, rng);
        lstm = LSTM(5 * o.dim, o.hidden, rng);
        query = Embedding(o.queries, o.dim, rng, 0.1f);
        profile = Embedding(o.profiles, o.dim, rng, 0.1f);
        attention = AttentionNet(o.hidden, o.dim, o.dim, o.attention, rng);
    }

    int rep_dim() const { return opt.hidden + opt.dim; }

    // rep (B, H + d); the attention weights (B, T) on request.
    Var represent(const Behaviours& b, Var* weights = nullptr) const {
        const Var x = embed(b);                                   // (B, T, 5d)  [E]
        const Var h = lstm(x).outputs;                            // (B, T, H)   [L]
        const Var u = profile(b.profile);                         // (B, d)      the user vector
        return concat({attention(h, query(b.query), u, weights), u}, 1);   // (B, H + d) [A], [R]
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = embed.named_parameters(prefix + "embed.");
        append(p, lstm.named_parameters(prefix + "lstm."));
        append(p, query.named_parameters(prefix + "query."));
        append(p, profile.named_parameters(prefix + "profile."));
        append(p, attention.named_parameters(prefix + "attention."));
        return p;
    }
};

// [M]: the task heads on the shared representation. CTR scores a candidate item with a
// bilinear form, logit = <W rep, e_item(j)> + b_j, where e_item is DUPN's own item embedding
// (shared by the behaviour sequence and every task; the paper uses an MLP on [rep ; item
// features], the bilinear form learns our planted click rule in far fewer steps); price and shop
// preference are softmax classifiers of the user.
struct TaskHeads {
    Embedding item_bias;            // (N, 1) b_j
    Linear ctr_proj, price, shop;   // W: (H + d) -> d; (H + d) -> classes

    TaskHeads() = default;
    TaskHeads(int items, int dim, int rep_dim, int price_classes, int shop_classes, Rng& rng)
        : item_bias(items, 1, rng, 0.0f), ctr_proj(rep_dim, dim, rng, false), price(rep_dim, price_classes, rng),
          shop(rep_dim, shop_classes, rng) {}

    // rep (B, H + d), the candidates' shared embeddings e_item(j) (B, d), their ids (B) -> logits (B, 1)
    Var ctr(const Var& rep, const Var& item_vectors, const Ids& items) const {
        return sum(ctr_proj(rep) * item_vectors, 1, true) + item_bias(items);
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = item_bias.named_parameters(prefix + "item_bias.");
        append(p, ctr_proj.named_parameters(prefix + "ctr_proj."));
        append(p, price.named_parameters(prefix + "price."));
        append(p, shop.named_parameters(prefix + "shop."));
        return p;
    }
};

// [M] DUPN with its task heads, trained end to end on the joint loss; new_head is the logistic head
// on rep of a new task when it joins the joint loss (RA, retraining on all tasks).
struct MultiTaskDupn {
    DUPN net;
    TaskHeads heads;
    Linear new_head;        // RA's only
    bool new_task = false;

    MultiTaskDupn(const DupnOptions& o, int price_classes, int shop_classes, bool with_new_task, Rng& rng)
        : net(o, rng), heads(o.items, o.dim, net.rep_dim(), price_classes, shop_classes, rng), new_task(with_new_task) {
        if (new_task) new_head = Linear(net.rep_dim(), 1, rng);
    }
    NamedParams named_parameters() const {
        NamedParams p = net.named_parameters("dupn.");
        append(p, heads.named_parameters("heads."));
        if (new_task) append(p, new_head.named_parameters("new."));
        return p;
    }
    // CTR logits (B, 1) of the candidates, from rep (B, H + d).
    Var ctr(const Var& rep, const Ids& candidate) const { return heads.ctr(rep, net.embed.item(candidate), candidate); }
    // The joint loss: CTR's, plus (multi-task) the price and shop preference losses weighted by aux_weight.
    Var loss(const Var& rep, const Ids& candidate, const Tensor& click, const Ids& price_class, const Ids& shop_class,
             bool multi_task, float aux_weight) const {
        Var l = bce_with_logits(ctr(rep, candidate), click);
        if (multi_task)
            l = l + (softmax_cross_entropy(heads.price(rep), price_class) +
                     softmax_cross_entropy(heads.shop(rep), shop_class)) * aux_weight;
        return l;
    }
    // RA: the new task's loss, its logistic head on rep, labels y (n).
    Var new_task_loss(const Behaviours& x, const std::vector<float>& y) const {
        return bce_with_logits(new_head(net.represent(x)), Tensor({int(y.size()), 1}, y));
    }
    // Without a graph: rep (n, H + d), the attention weights (n, T) on request; CTR's AUC; the new task's.
    Tensor frozen(const Behaviours& x, Var* weights = nullptr) const {
        NoGrad no_grad;
        return net.represent(x, weights).value();
    }
    double ctr_auc(const Behaviours& x, const Ids& candidate, const Tensor& click) const {
        NoGrad no_grad;
        return auc(ctr(net.represent(x), candidate).value().vec(), click.vec());
    }
    double new_task_auc(const Behaviours& x, const std::vector<float>& y) const {
        NoGrad no_grad;
        return auc(new_head(net.represent(x)).value().vec(), y);
    }
};

// RT, the transfer by representation: the frozen rep (n, F) of the new task's users under a new
// logistic head, full batch, Adam; returns the test AUC. The features are standardised with the
// training half's mean and deviation.
inline double transfer_auc(Tensor a, const std::vector<float>& train_y, Tensor b, const std::vector<float>& test_y,
                           int steps, uint64_t seed) {
    const int F = a.dim(1), n = a.dim(0), m = b.dim(0);
    for (int f = 0; f < F; ++f) {
        double mu = 0.0, ss = 0.0;
        for (int i = 0; i < n; ++i) mu += a[size_t(i * F + f)] / n, ss += double(a[size_t(i * F + f)]) * a[size_t(i * F + f)] / n;
        const double sd = std::sqrt(std::max(0.0, ss - mu * mu)) + 1e-6;
        for (int i = 0; i < n; ++i) a[size_t(i * F + f)] = float((a[size_t(i * F + f)] - mu) / sd);
        for (int i = 0; i < m; ++i) b[size_t(i * F + f)] = float((b[size_t(i * F + f)] - mu) / sd);
    }
    Rng rng(seed);
    Linear head(F, 1, rng);
    AdamOptions ao;
    ao.lr = 0.05, ao.weight_decay = 1e-3;
    Adam adam(vars_of(head.named_parameters()), ao);
    const Tensor y({n, 1}, train_y);
    for (int s = 0; s < steps; ++s) {   // one full batch per step
        adam.zero_grad();
        backward(bce_with_logits(head(constant(a)), y));
        adam.step();
    }
    NoGrad no_grad;
    return auc(head(constant(b)).value().vec(), test_y);
}

// FT, the transfer by fine-tuning: a new logistic head on rep, trained together with the whole DUPN
// on the new task (full batch, Adam); returns the test AUC. From an untrained DUPN this is RS, DUPN
// on the new task alone. DUPN's weights are restored afterwards, so one trained model serves several
// transfers.
inline double fine_tune_auc(DUPN& net, const Behaviours& train, const std::vector<float>& train_y, const Behaviours& test,
                            const std::vector<float>& test_y, int steps, double lr, uint64_t seed) {
    const std::vector<Var> shared = vars_of(net.named_parameters());
    std::vector<Tensor> saved;
    for (const Var& p : shared) saved.push_back(p.value());
    Rng rng(seed);
    Linear head(net.rep_dim(), 1, rng);
    std::vector<Var> params = shared, head_params = vars_of(head.named_parameters());
    params.insert(params.end(), head_params.begin(), head_params.end());
    Adam adam(params, lr);
    const Tensor y({int(train_y.size()), 1}, train_y);
    for (int s = 0; s < steps; ++s) {
        const Var loss = bce_with_logits(head(net.represent(train)), y);
        adam.zero_grad();
        backward(loss);
        adam.step();
    }
    NoGrad no_grad;
    const double result = auc(head(net.represent(test)).value().vec(), test_y);
    for (size_t i = 0; i < shared.size(); ++i) Var(shared[i]).value_mut() = saved[i];
    return result;
}

}  // namespace ch53
}  // namespace minirec

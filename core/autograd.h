// Reverse-mode automatic differentiation, define-by-run, at tensor level (micrograd, grown up).
// A Var is a shared handle to a Node: the value, its gradient, its parents and the backward
// closure that turns the output gradient into gradients of the parents. Ops live in ops.h.
// The graph is freed when the last Var that reaches it goes away.
// Deliberately left out: higher-order gradients, in-place ops on graph values, hooks.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace minirec {

struct Node {
    Tensor value;
    Tensor grad = Tensor(Shape{0});  // empty (shape [0]) until something accumulates into it
    bool requires_grad = false;
    const char* op = "leaf";     // the op that made this node, for error messages
    std::vector<std::shared_ptr<Node>> parents;
    // gy: the gradient of the loss w.r.t. value. It is the node's own gradient, handed over: a
    // closure may move it on to a parent (a reshape, the same-shape operand of an add) instead
    // of copying it. Most closures only read it and take `const Tensor&`.
    std::function<void(Tensor& gy)> backward;

    Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    ~Node();  // frees long chains of parents without recursion (see autograd.cpp)
};

class WeakVar;

class Var {
public:
    Var();                                           // a constant scalar 0
    explicit Var(Tensor value, bool requires_grad = false);  // a leaf

    const Tensor& value() const { return node_->value; }
    Tensor& value_mut() { return node_->value; }     // for optimizers: change a leaf in place
    const Shape& shape() const { return node_->value.shape(); }
    int dim(int axis) const { return node_->value.dim(axis); }
    int rank() const { return node_->value.rank(); }
    size_t size() const { return node_->value.size(); }
    float item() const { return node_->value.item(); }

    bool requires_grad() const { return node_->requires_grad; }
    bool has_grad() const { return node_->grad.shape() == node_->value.shape(); }
    // The gradient; a zero tensor of the value's shape if nothing has been accumulated yet.
    const Tensor& grad() const;
    void zero_grad();                                // forget the accumulated gradient

    // grad += g (g must have the value's shape). No-op when this Var does not require grad.
    void accumulate_grad(const Tensor& g) const;
    void accumulate_grad(Tensor&& g) const;

    void set_backward(std::function<void(Tensor& gy)> fn);
    WeakVar weak() const;
    const char* op() const { return node_->op; }
    Node* node() const { return node_.get(); }
    const std::shared_ptr<Node>& node_ptr() const { return node_; }

private:
    friend Var make_result(Tensor value, std::vector<Var> parents, const char* op);
    std::shared_ptr<Node> node_;
};

// A non-owning handle, for a result to refer to itself inside its own backward closure
// (an owning handle there would be a reference cycle and leak the whole graph).
class WeakVar {
public:
    explicit WeakVar(const std::shared_ptr<Node>& n) : node_(n.get()) {}
    const Tensor& value() const { return node_->value; }
private:
    Node* node_;  // valid while the closure can run: the node owns the closure
};

// A new graph node holding `value`, made by `op` from `parents`. It requires grad when any parent
// does and no NoGrad scope is open; otherwise it is a constant and set_backward is ignored.
Var make_result(Tensor value, std::vector<Var> parents, const char* op);

// Runs backward from a scalar (one-element) Var: seeds its gradient with 1, sorts the graph
// topologically and calls each node's closure once, outputs before inputs. Gradients accumulate
// into the leaves (parameters, inputs made with parameter()), which keep them until zero_grad().
// An intermediate result hands its gradient to its closure and keeps none (as PyTorch's
// non-leaf tensors): that saves a copy per pass-through op, and a second backward through the
// same graph adds the same gradients again instead of counting the first pass twice.
void backward(const Var& loss);
// The same from any Var, seeded with the gradient gy (of y's shape) instead of 1.
void backward(const Var& y, const Tensor& gy);

// Same value, no history: gradients stop here (teachers, GAN targets, adversaries).
Var detach(const Var& x);

// While a NoGrad object lives, new results record no graph (evaluation, metrics).
class NoGrad {
public:
    NoGrad();
    ~NoGrad();
    NoGrad(const NoGrad&) = delete;
    NoGrad& operator=(const NoGrad&) = delete;
private:
    bool previous_;
};
bool grad_enabled();

// A trainable leaf: requires_grad = true.
inline Var parameter(Tensor value) { return Var(std::move(value), true); }
// A constant leaf.
inline Var constant(Tensor value) { return Var(std::move(value), false); }

}  // namespace minirec

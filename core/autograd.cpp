// The autograd engine: nodes, gradient accumulation, the topological sort and the NoGrad scope.
// The ops themselves (forward + backward side by side) are in ops_*.cpp.
#include "core/autograd.h"

#include <unordered_set>

namespace minirec {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
NoGrad::NoGrad() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = previous_; }

// Freeing a graph by plain shared_ptr destruction recurses once per node along a chain, which
// overflows the stack for long recurrent graphs. We unroll it: a dying node hands its parents to
// a local stack; a parent that this was the last owner of hands on its own parents (and drops
// its closure, which owns parent handles too) before it dies, so no destructor nests deeply.
Node::~Node() {
    std::vector<std::shared_ptr<Node>> stack = std::move(parents);
    backward = nullptr;
    while (!stack.empty()) {
        std::shared_ptr<Node> n = std::move(stack.back());
        stack.pop_back();
        if (n.use_count() == 1) {
            for (auto& p : n->parents) stack.push_back(std::move(p));
            n->parents.clear();
            n->backward = nullptr;
        }
    }  // n dies here with no parents left to recurse into
}

Var::Var() : node_(std::make_shared<Node>()) {}

Var::Var(Tensor value, bool requires_grad) : node_(std::make_shared<Node>()) {
    node_->value = std::move(value);
    node_->requires_grad = requires_grad;
}

const Tensor& Var::grad() const {
    // A Var nobody has differentiated yet has a zero gradient of its own shape.
    if (!has_grad()) node_->grad = Tensor(node_->value.shape(), 0.0f);
    return node_->grad;
}

void Var::zero_grad() { node_->grad = Tensor(Shape{0}); }

void Var::accumulate_grad(const Tensor& g) const {
    if (!node_->requires_grad) return;
    if (g.shape() != node_->value.shape())
        shape_fail("accumulate_grad", node_->value.shape(), g.shape(),
                   std::string("gradient shape differs from the value of '") + node_->op + "'");
    if (has_grad()) node_->grad += g;
    else node_->grad = g;
}

void Var::accumulate_grad(Tensor&& g) const {
    if (!node_->requires_grad) return;
    if (g.shape() != node_->value.shape())
        shape_fail("accumulate_grad", node_->value.shape(), g.shape(),
                   std::string("gradient shape differs from the value of '") + node_->op + "'");
    if (has_grad()) node_->grad += g;
    else node_->grad = std::move(g);
}

void Var::set_backward(std::function<void(Tensor& gy)> fn) {
    // A constant result (no parent needs a gradient, or NoGrad is open) keeps no closure, so it
    // also keeps none of the tensors the closure would have captured.
    if (node_->requires_grad) node_->backward = std::move(fn);
}

WeakVar Var::weak() const { return WeakVar(node_); }

Var make_result(Tensor value, std::vector<Var> parents, const char* op) {
    Var y(std::move(value), false);
    y.node_->op = op;
    if (!g_grad_enabled) return y;
    for (const Var& p : parents) {
        if (p.requires_grad()) {
            y.node_->requires_grad = true;
            break;
        }
    }
    if (y.node_->requires_grad) {
        y.node_->parents.reserve(parents.size());
        for (const Var& p : parents) y.node_->parents.push_back(p.node_ptr());
    }
    return y;
}

void backward(const Var& loss) {
    if (loss.size() != 1) shape_fail("backward", loss.shape(), "the loss must be a single number");
    backward(loss, Tensor(loss.shape(), 1.0f));
}

void backward(const Var& loss, const Tensor& seed) {
    if (!loss.requires_grad()) arg_fail("backward", "the loss does not depend on any parameter that requires grad");
    if (seed.shape() != loss.shape()) shape_fail("backward", loss.shape(), seed.shape(), "the seed gradient must have the output's shape");

    // Topological order by an iterative depth-first search (deep graphs, e.g. long RNNs, would
    // overflow the stack with recursion). `order` ends up with inputs before outputs.
    std::vector<Node*> order;
    std::unordered_set<Node*> seen;
    std::vector<std::pair<Node*, size_t>> stack{{loss.node(), 0}};
    seen.insert(loss.node());
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->parents.size()) {
            Node* p = node->parents[next++].get();
            if (p->requires_grad && seen.insert(p).second) stack.push_back({p, 0});
        } else {
            order.push_back(node);
            stack.pop_back();
        }
    }

    // Seed dL/dy and walk outputs before inputs; each closure runs once, after every
    // consumer of its node has added its share of the gradient.
    loss.accumulate_grad(seed);
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        Node* n = *it;
        if (!n->backward) continue;  // a leaf
        if (n->grad.shape() != n->value.shape()) continue;  // nothing flowed here
        Tensor gy = std::move(n->grad);  // handed over: the node keeps no gradient
        n->grad = Tensor(Shape{0});
        n->backward(gy);
    }
}

Var detach(const Var& x) { return Var(x.value(), false); }

}  // namespace minirec

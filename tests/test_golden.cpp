// Golden values: every differentiable op of core/ops.h, forward and backward, against values that
// PyTorch computed independently (tests/golden/make_golden.py wrote tests/golden/ops_golden.txt;
// the script's header says how to regenerate it). The fixture is committed, so this test needs
// nothing but the file. Deliberately left out: dropout (its mask comes from our own Rng, which
// PyTorch cannot reproduce) - the gradient checks and the determinism tests cover it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/ops.h"

namespace minirec {
namespace {

// ---- the fixture ------------------------------------------------------------------------------

// One block of the fixture: an op, its parameters, inputs, outputs, upstream gradients and the
// gradients of L = sum_k sum(out_k * gy_k) with respect to each input.
struct GoldenCase {
    std::string op, label;
    int line = 0;                                       // where the block starts, for messages
    std::map<std::string, std::vector<double>> params;
    std::vector<std::pair<std::string, Tensor>> inputs;  // in the op's argument order
    std::map<std::string, Tensor> consts;               // masks
    std::vector<Tensor> outs, gys;
    std::vector<std::pair<std::string, Tensor>> grads;

    std::string where() const { return op + " " + label + " (fixture line " + std::to_string(line) + ")"; }
    const std::vector<double>& p(const std::string& name) const {
        auto it = params.find(name);
        if (it == params.end()) throw std::runtime_error(where() + ": missing parameter " + name);
        return it->second;
    }
    float f(const std::string& name) const { return static_cast<float>(p(name).at(0)); }
    int i(const std::string& name) const { return static_cast<int>(p(name).at(0)); }
    std::vector<int> ints(const std::string& name) const {
        std::vector<int> v;
        for (double d : p(name)) v.push_back(static_cast<int>(d));
        return v;
    }
    const Tensor* mask() const {
        auto it = consts.find("mask");
        return it == consts.end() ? nullptr : &it->second;
    }
};

struct Fixture {
    std::string path;
    std::vector<GoldenCase> cases;
    long declared = -1;  // the "# cases N" header line: catches a truncated file
};

// "<rank> <dims...> <values...>" -> Tensor. strtof reads the %.9g text back to the same float.
Tensor read_tensor(std::istringstream& in, const std::string& where) {
    int rank = -1;
    in >> rank;
    if (!in || rank < 0 || rank > 4) throw std::runtime_error(where + ": bad tensor rank");
    Shape shape(static_cast<size_t>(rank));
    for (int& d : shape) in >> d;
    std::vector<float> values(numel(shape));
    std::string tok;
    for (float& v : values) {
        if (!(in >> tok)) throw std::runtime_error(where + ": too few tensor values");
        char* end = nullptr;
        v = std::strtof(tok.c_str(), &end);
        if (*end != '\0') throw std::runtime_error(where + ": bad number '" + tok + "'");
    }
    if (in >> tok) throw std::runtime_error(where + ": too many tensor values");
    return Tensor(shape, std::move(values));
}

// The fixture sits next to this file: tests/golden/ops_golden.txt. __FILE__ is the path the
// compiler was given (relative to where make or meson ran it), so we also try the usual roots;
// MINIREC_GOLDEN_FIXTURE=path overrides them all.
std::string fixture_path() {
    if (const char* env = std::getenv("MINIREC_GOLDEN_FIXTURE"); env && *env) return env;
    std::string here = __FILE__;
    const size_t slash = here.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : here.substr(0, slash);
    const std::vector<std::string> candidates = {dir + "/golden/ops_golden.txt", "tests/golden/ops_golden.txt",
                                                 "../tests/golden/ops_golden.txt"};
    for (const std::string& c : candidates)
        if (std::ifstream(c).good()) return c;
    return candidates.front();
}

Fixture load_fixture() {
    Fixture fx;
    fx.path = fixture_path();
    std::ifstream file(fx.path);
    if (!file) throw std::runtime_error("cannot open the golden fixture " + fx.path);
    std::string line;
    GoldenCase* cur = nullptr;
    int lineno = 0;
    while (std::getline(file, line)) {
        ++lineno;
        if (line.empty()) continue;
        std::istringstream in(line);
        std::string key;
        in >> key;
        const std::string where = fx.path + ":" + std::to_string(lineno);
        if (key == "#") {
            std::string word;
            if (in >> word && word == "cases") in >> fx.declared;
            continue;
        }
        if (key == "case") {
            if (cur) throw std::runtime_error(where + ": 'case' inside an unfinished case");
            fx.cases.emplace_back();
            cur = &fx.cases.back();
            in >> cur->op >> cur->label;
            cur->line = lineno;
            continue;
        }
        if (!cur) throw std::runtime_error(where + ": '" + key + "' outside a case");
        std::string name;
        if (key == "p") {
            in >> name;
            std::vector<double>& v = cur->params[name];
            double d;
            while (in >> d) v.push_back(d);
        } else if (key == "in") {
            in >> name;
            cur->inputs.emplace_back(name, read_tensor(in, where));
        } else if (key == "const") {
            in >> name;
            cur->consts.emplace(name, read_tensor(in, where));
        } else if (key == "out") {
            cur->outs.push_back(read_tensor(in, where));
        } else if (key == "gy") {
            cur->gys.push_back(read_tensor(in, where));
        } else if (key == "grad") {
            in >> name;
            cur->grads.emplace_back(name, read_tensor(in, where));
        } else if (key == "end") {
            cur = nullptr;
        } else {
            throw std::runtime_error(where + ": unknown line kind '" + key + "'");
        }
    }
    if (cur) throw std::runtime_error(fx.path + ": the last case has no 'end' (truncated file?)");
    return fx;
}

const Fixture& fixture() {
    static const Fixture fx = load_fixture();
    return fx;
}

// ---- running one case through minirec ------------------------------------------------------------

// Calls minirec's op named by the case. Returns false for an op name we do not know, which the
// test reports as a failure: a fixture op without a runner here must never pass silently.
bool run_op(const GoldenCase& c, const std::vector<Var>& x, std::vector<Var>& y) {
    const std::string& op = c.op;
    // binary arithmetic with broadcasting
    if (op == "add") y = {add(x[0], x[1])};
    else if (op == "sub") y = {sub(x[0], x[1])};
    else if (op == "mul") y = {mul(x[0], x[1])};
    else if (op == "div") y = {div(x[0], x[1])};
    else if (op == "neg") y = {neg(x[0])};
    // with a float: the named functions and every operator overload
    else if (op == "add_scalar") y = {add(x[0], c.f("s"))};
    else if (op == "mul_scalar") y = {mul(x[0], c.f("s"))};
    else if (op == "sub_scalar") y = {x[0] - c.f("s")};
    else if (op == "rsub_scalar") y = {c.f("s") - x[0]};
    else if (op == "div_scalar") y = {x[0] / c.f("s")};
    else if (op == "radd_scalar") y = {c.f("s") + x[0]};
    else if (op == "rmul_scalar") y = {c.f("s") * x[0]};
    // unary maths and activations
    else if (op == "exp") y = {exp(x[0])};
    else if (op == "log") y = {log(x[0])};
    else if (op == "sqrt") y = {sqrt(x[0])};
    else if (op == "pow") y = {pow(x[0], c.f("p"))};
    else if (op == "abs") y = {abs(x[0])};
    else if (op == "clamp") y = {clamp(x[0], c.f("lo"), c.f("hi"))};
    else if (op == "relu") y = {relu(x[0])};
    else if (op == "leaky_relu") y = {leaky_relu(x[0], c.f("slope"))};
    else if (op == "sigmoid") y = {sigmoid(x[0])};
    else if (op == "tanh") y = {tanh(x[0])};
    else if (op == "gelu") y = {gelu(x[0])};
    else if (op == "softplus") y = {softplus(x[0])};
    else if (op == "log_sigmoid") y = {log_sigmoid(x[0])};
    else if (op == "masked_fill") y = {masked_fill(x[0], *c.mask(), c.f("value"))};
    // reductions
    else if (op == "sum_all") y = {sum(x[0])};
    else if (op == "mean_all") y = {mean(x[0])};
    else if (op == "max_all") y = {max(x[0])};
    else if (op == "sum") y = {sum(x[0], c.i("axis"), c.i("keepdim") != 0)};
    else if (op == "mean") y = {mean(x[0], c.i("axis"), c.i("keepdim") != 0)};
    else if (op == "max") y = {max(x[0], c.i("axis"), c.i("keepdim") != 0)};
    else if (op == "logsumexp") y = {logsumexp(x[0], c.i("axis"), c.i("keepdim") != 0)};
    // normalisations over the last axis
    else if (op == "softmax") y = {softmax(x[0], c.mask())};
    else if (op == "log_softmax") y = {log_softmax(x[0], c.mask())};
    else if (op == "layer_norm") y = {layer_norm(x[0], c.f("eps"))};
    else if (op == "layer_norm_affine") y = {layer_norm(x[0], x[1], x[2], c.f("eps"))};
    else if (op == "l2_normalize") y = {l2_normalize(x[0], c.f("eps"))};
    // linear algebra and shapes
    else if (op == "matmul") y = {matmul(x[0], x[1], c.i("trans_a") != 0, c.i("trans_b") != 0)};
    else if (op == "reshape") y = {reshape(x[0], c.ints("shape"))};
    else if (op == "transpose") y = {transpose(x[0])};
    else if (op == "permute") y = {permute(x[0], c.ints("dims"))};
    else if (op == "concat") y = {concat(x, c.i("axis"))};
    else if (op == "split") y = split(x[0], c.ints("sizes"), c.i("axis"));
    else if (op == "slice") y = {slice(x[0], c.i("axis"), c.i("start"), c.i("end"))};
    else if (op == "unsqueeze") y = {unsqueeze(x[0], c.i("axis"))};
    else if (op == "squeeze") y = {squeeze(x[0], c.i("axis"))};
    else if (op == "broadcast_to") y = {broadcast_to(x[0], c.ints("shape"))};
    // lookups
    else if (op == "gather_rows" || op == "segment_sum" || op == "segment_mean") {
        const std::vector<int> v = c.ints("ids");
        const Ids ids(v.begin(), v.end());
        if (op == "gather_rows") {
            y = {gather_rows(x[0], ids)};
        } else {
            std::vector<float> w;
            if (c.params.count("weights"))
                for (double d : c.p("weights")) w.push_back(static_cast<float>(d));
            const std::vector<float>* pw = c.params.count("weights") ? &w : nullptr;
            y = {op == "segment_sum" ? segment_sum(x[0], ids, c.ints("offsets"), pw)
                                     : segment_mean(x[0], ids, c.ints("offsets"), pw)};
        }
    } else {
        return false;
    }
    return true;
}

// ---- comparing --------------------------------------------------------------------------------

// Pass when |minirec - torch| <= atol + rtol |torch|. The reference is exact (PyTorch in float64
// on our float32 inputs, rounded once), so the tolerance only has to cover minirec's float32
// arithmetic: a few roundings of 6e-8 each, and the vectorised exp/log/tanh (about 1e-6 relative).
struct Tol {
    double atol = 1e-5, rtol = 1e-5;
};

Tol tolerance(const std::string& op) {
    (void)op;  // one tolerance for every op so far; a looser one must be argued here, per op
    return Tol{};
}

// Compares one tensor; on failure reports the worst element once. Returns the worst ratio
// |a - b| / (atol + rtol |b|) (<= 1 passes).
double compare(const GoldenCase& c, const std::string& what, const Tensor& got, const Tensor& want, Tol tol) {
    if (got.shape() != want.shape()) {
        FAIL_CHECK(c.where() << ": " << what << " has shape " << shape_str(got.shape()) << ", PyTorch "
                             << shape_str(want.shape()));
        return INFINITY;
    }
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        const double a = got[i], b = want[i];
        const double ratio = std::fabs(a - b) / (tol.atol + tol.rtol * std::fabs(b));
        if (!(ratio <= worst)) {  // NaN lands here and sticks
            worst = std::isnan(ratio) ? INFINITY : ratio;
            at = i;
        }
    }
    if (worst > 1.0)
        FAIL_CHECK(c.where() << ": " << what << " element " << at << " of " << shape_str(want.shape())
                             << ": minirec " << got[at] << " vs PyTorch " << want[at] << " (|diff| "
                             << std::fabs(static_cast<double>(got[at]) - want[at]) << " > "
                             << tol.atol + tol.rtol * std::fabs(static_cast<double>(want[at])) << ")");
    return worst;
}

// Every op of core/ops.h that the fixture must exercise (dropout excepted, see the top).
const std::set<std::string> kRequiredOps = {
    "add", "sub", "mul", "div", "neg", "add_scalar", "mul_scalar", "sub_scalar", "rsub_scalar",
    "div_scalar", "radd_scalar", "rmul_scalar", "exp", "log", "sqrt", "pow", "abs", "clamp", "relu",
    "leaky_relu", "sigmoid", "tanh", "gelu", "softplus", "log_sigmoid", "masked_fill", "sum_all",
    "mean_all", "max_all", "sum", "mean", "max", "logsumexp", "softmax", "log_softmax", "layer_norm",
    "layer_norm_affine", "l2_normalize", "matmul", "reshape", "transpose", "permute", "concat", "split",
    "slice", "unsqueeze", "squeeze", "broadcast_to", "gather_rows", "segment_sum", "segment_mean"};

constexpr size_t kMinCases = 250;  // the fixture holds 289; fewer means it lost cases

}  // namespace

TEST_SUITE("golden") {

TEST_CASE("golden: the fixture is complete and covers every op") {
    const Fixture& fx = fixture();
    INFO("fixture " << fx.path);
    CHECK(fx.declared == static_cast<long>(fx.cases.size()));
    CHECK(fx.cases.size() >= kMinCases);
    std::set<std::string> seen;
    for (const GoldenCase& c : fx.cases) {
        seen.insert(c.op);
        CHECK_MESSAGE(c.outs.size() == c.gys.size(), c.where());
        CHECK_MESSAGE(!c.outs.empty(), c.where());
        CHECK_MESSAGE(c.grads.size() == c.inputs.size(), c.where());
    }
    for (const std::string& op : kRequiredOps) CHECK_MESSAGE(seen.count(op) == 1, "no golden case for " << op);
}

TEST_CASE("golden: every op's output and gradients match PyTorch") {
    const Fixture& fx = fixture();
    size_t executed = 0;
    std::map<std::string, double> worst_per_op;  // for MINIREC_GOLDEN_VERBOSE=1
    for (const GoldenCase& c : fx.cases) {
        std::vector<Var> x;
        for (const auto& in : c.inputs) x.push_back(parameter(in.second));
        std::vector<Var> y;
        bool known = false;
        try {
            known = run_op(c, x, y);
        } catch (const std::exception& e) {
            FAIL_CHECK(c.where() << ": minirec threw: " << e.what());
            continue;
        }
        if (!known) {
            FAIL_CHECK(c.where() << ": unknown op '" << c.op << "' in the fixture (add a runner in " << __FILE__
                                 << ")");
            continue;
        }
        if (y.size() != c.outs.size()) {
            FAIL_CHECK(c.where() << ": minirec gave " << y.size() << " outputs, PyTorch " << c.outs.size());
            continue;
        }
        const Tol tol = tolerance(c.op);
        double worst = 0.0;
        for (size_t k = 0; k < y.size(); ++k)
            worst = std::max(worst, compare(c, "output " + std::to_string(k), y[k].value(), c.outs[k], tol));
        // L = sum_k sum(y_k * gy_k): one backward per output, gradients accumulate in the inputs.
        try {
            for (size_t k = 0; k < y.size(); ++k) backward(y[k], c.gys[k]);
        } catch (const std::exception& e) {
            FAIL_CHECK(c.where() << ": backward threw: " << e.what());
            continue;
        }
        for (size_t j = 0; j < c.grads.size(); ++j) {
            REQUIRE(c.grads[j].first == c.inputs[j].first);
            worst = std::max(worst, compare(c, "gradient of " + c.grads[j].first, x[j].grad(), c.grads[j].second, tol));
        }
        double& w = worst_per_op[c.op];
        w = std::max(w, worst);
        ++executed;
    }
    CHECK(executed == fx.cases.size());
    CHECK(executed >= kMinCases);
    if (const char* v = std::getenv("MINIREC_GOLDEN_VERBOSE"); v && *v == '1') {
        std::ostringstream s;
        s << "worst |diff| / tolerance per op:";
        for (const auto& [op, w] : worst_per_op) s << "\n  " << op << " " << w;
        MESSAGE(s.str());
    }
}

}  // TEST_SUITE

}  // namespace minirec

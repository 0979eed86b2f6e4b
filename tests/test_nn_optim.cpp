// Optimizers: every update rule against PyTorch's (tests/golden/optim_golden.txt, written by
// tests/golden/make_golden_optim.py), clipping by global norm, schedules, and two optimizers
// over disjoint parameter groups in one loop.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "core/ops.h"
#include "nn/optim.h"

using namespace minirec;

namespace {

// One case of the fixture: hyper-parameters, the initial value, then (gradient, value after) per step.
struct GoldenCase {
    std::string name;
    std::map<std::string, std::string> hyper;
    std::vector<float> init;
    std::vector<std::pair<std::vector<float>, std::vector<float>>> steps;
};

std::vector<float> floats(std::istringstream& in) {
    std::vector<float> v;
    double x;
    while (in >> x) v.push_back(static_cast<float>(x));
    return v;
}

// The fixture sits next to this file; __FILE__ may be relative to the build's working directory,
// so we also try the paths a run from the repository root or a build directory would see.
std::vector<GoldenCase> read_golden() {
    const std::string here = __FILE__;
    const std::string dir = here.substr(0, here.find_last_of('/') == std::string::npos ? 0 : here.find_last_of('/'));
    std::ifstream f;
    for (const std::string& p : {dir + "/golden/optim_golden.txt", std::string("tests/golden/optim_golden.txt"),
                                 std::string("../tests/golden/optim_golden.txt")}) {
        f.open(p);
        if (f) break;
        f.clear();
    }
    REQUIRE_MESSAGE(f.is_open(), "cannot find tests/golden/optim_golden.txt");
    std::vector<GoldenCase> cases;
    std::string line;
    std::vector<float> pending_grad;
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string tag;
        in >> tag;
        if (tag == "case") {
            cases.emplace_back();
            in >> cases.back().name;
            std::string kv;
            while (in >> kv) {
                const size_t eq = kv.find('=');
                cases.back().hyper[kv.substr(0, eq)] = kv.substr(eq + 1);
            }
        } else if (tag == "init") {
            cases.back().init = floats(in);
        } else if (tag == "grad") {
            pending_grad = floats(in);
        } else if (tag == "after") {
            cases.back().steps.emplace_back(pending_grad, floats(in));
        }
    }
    return cases;
}

double hp(const GoldenCase& c, const std::string& k) { return std::stod(c.hyper.at(k)); }

std::unique_ptr<Optimizer> make_optimizer(const GoldenCase& c, const Var& p) {
    const std::string& kind = c.hyper.at("opt");
    if (kind == "SGD") {
        SgdOptions o;
        o.lr = hp(c, "lr"), o.momentum = hp(c, "momentum"), o.dampening = hp(c, "dampening");
        o.weight_decay = hp(c, "weight_decay"), o.nesterov = hp(c, "nesterov") != 0.0;
        return std::make_unique<SGD>(std::vector<Var>{p}, o);
    }
    if (kind == "Adagrad") {
        AdagradOptions o;
        o.lr = hp(c, "lr"), o.lr_decay = hp(c, "lr_decay"), o.weight_decay = hp(c, "weight_decay");
        o.initial_accumulator_value = hp(c, "initial_accumulator_value"), o.eps = hp(c, "eps");
        return std::make_unique<Adagrad>(std::vector<Var>{p}, o);
    }
    AdamOptions o;
    o.lr = hp(c, "lr"), o.beta1 = hp(c, "beta1"), o.beta2 = hp(c, "beta2"), o.eps = hp(c, "eps");
    o.weight_decay = hp(c, "weight_decay");
    if (kind == "AdamW") return std::make_unique<AdamW>(std::vector<Var>{p}, o);
    REQUIRE(kind == "Adam");
    return std::make_unique<Adam>(std::vector<Var>{p}, o);
}

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("optimizers match PyTorch step by step (golden fixture)") {
    const std::vector<GoldenCase> cases = read_golden();
    REQUIRE(cases.size() == 10);
    int compared = 0;
    for (const GoldenCase& c : cases) {
        CAPTURE(c.name);
        Var p = parameter(Tensor(Shape{static_cast<int>(c.init.size())}, c.init));
        auto opt = make_optimizer(c, p);
        for (size_t s = 0; s < c.steps.size(); ++s) {
            CAPTURE(s);
            opt->zero_grad();
            p.accumulate_grad(Tensor(p.shape(), c.steps[s].first));
            opt->step();
            const std::vector<float>& want = c.steps[s].second;
            for (size_t i = 0; i < want.size(); ++i) {
                // float32 arithmetic in a possibly different order: a few ulps, relative 1e-6.
                CHECK(std::fabs(p.value()[i] - want[i]) <= 1e-6f * std::fabs(want[i]) + 1e-7f);
                ++compared;
            }
        }
    }
    CHECK(compared == 10 * 5 * 6);
}

TEST_CASE("clip_grad_norm scales all gradients together") {
    Var a = parameter(Tensor(Shape{2}, {0.0f, 0.0f}));
    Var b = parameter(Tensor(Shape{1}, 0.0f));
    Var unused = parameter(Tensor(Shape{3}, 1.0f));  // no gradient: counts as zero
    a.accumulate_grad(Tensor(Shape{2}, {3.0f, 4.0f}));
    b.accumulate_grad(Tensor(Shape{1}, 12.0f));
    CHECK(grad_norm({a, b, unused}) == doctest::Approx(13.0));
    CHECK(clip_grad_norm({a, b, unused}, 100.0f) == doctest::Approx(13.0));
    CHECK(a.grad()[0] == 3.0f);  // below the limit: untouched, bit for bit
    CHECK(clip_grad_norm({a, b, unused}, 6.5f) == doctest::Approx(13.0));
    CHECK(a.grad()[1] == doctest::Approx(2.0).epsilon(1e-6));
    CHECK(b.grad()[0] == doctest::Approx(6.0).epsilon(1e-6));
    CHECK(grad_norm({a, b}) == doctest::Approx(6.5).epsilon(1e-6));
    b.accumulate_grad(Tensor(Shape{1}, NAN));
    CHECK_THROWS_WITH_AS(clip_grad_norm({a, b}, 1.0f), doctest::Contains("NaN or Inf"), std::runtime_error);
}

TEST_CASE("learning-rate schedules") {
    const LrSchedule c = LrSchedule::constant(0.1);
    CHECK(c.at(0) == 0.1);
    CHECK(c.at(1000) == 0.1);
    const LrSchedule w = LrSchedule::linear_warmup(1.0, 4);
    CHECK(w.at(0) == doctest::Approx(0.25));
    CHECK(w.at(2) == doctest::Approx(0.75));
    CHECK(w.at(3) == doctest::Approx(1.0));
    CHECK(w.at(50) == doctest::Approx(1.0));
    const LrSchedule cos = LrSchedule::cosine(1.0, 10, 0, 0.1);
    CHECK(cos.at(0) == doctest::Approx(1.0));
    CHECK(cos.at(5) == doctest::Approx(0.55));  // half-way: (base + min) / 2
    CHECK(cos.at(10) == doctest::Approx(0.1));
    CHECK(cos.at(20) == doctest::Approx(0.1));  // stays at min_lr after the end
    const LrSchedule wc = LrSchedule::cosine(2.0, 12, 2);
    CHECK(wc.at(0) == doctest::Approx(1.0));
    CHECK(wc.at(2) == doctest::Approx(2.0));
    CHECK(wc.at(7) == doctest::Approx(1.0));
    CHECK_THROWS_AS(LrSchedule::cosine(1.0, 5, 5), ArgumentError);
}

TEST_CASE("two optimizers over disjoint groups in one loop") {
    Var g = parameter(Tensor(Shape{2}, {1.0f, -1.0f}));  // "generator"
    Var d = parameter(Tensor(Shape{2}, {0.5f, 0.5f}));   // "discriminator"
    AdamOptions ao;
    ao.lr = 0.1;
    Adam opt_g({g}, ao);
    SgdOptions so;
    so.lr = 0.1;
    so.momentum = 0.5;
    SGD opt_d({d}, so);
    for (int it = 0; it < 3; ++it) {
        // d's step: loss depends on both, only d moves.
        opt_d.zero_grad();
        opt_g.zero_grad();
        Var ld = sum(g * d);
        backward(ld);
        const Tensor g_before = g.value();
        opt_d.step();
        CHECK(max_abs_diff(g.value(), g_before) == 0.0f);
        // g's step: only g moves, and opt_g.zero_grad() did not touch d's gradient.
        opt_g.zero_grad();
        CHECK(d.has_grad());
        Var lg = sum(g * g * d);
        backward(lg);
        const Tensor d_before = d.value();
        opt_g.step();
        CHECK(max_abs_diff(d.value(), d_before) == 0.0f);
    }
    CHECK(opt_g.state()[0].first == "0.step");
    CHECK(opt_g.state()[0].second->item() == 3.0f);
    CHECK(opt_d.state()[1].first == "0.momentum_buffer");
}

TEST_CASE("optimizer bookkeeping: skipped parameters, state names, errors") {
    Var a = parameter(Tensor(Shape{2}, 1.0f));
    Var b = parameter(Tensor(Shape{2, 2}, 1.0f));
    Adam opt({a, b}, AdamOptions{});
    a.accumulate_grad(Tensor(Shape{2}, 1.0f));
    opt.step();  // b has no gradient: untouched, and its step count stays 0
    CHECK(b.value()[0] == 1.0f);
    CHECK(a.value()[0] == doctest::Approx(1.0 - 1e-3).epsilon(1e-6));  // Adam's first step is lr * sign(g)
    auto st = opt.state();
    REQUIRE(st.size() == 6);
    CHECK(st[0].first == "0.step");
    CHECK(st[0].second->item() == 1.0f);
    CHECK(st[3].first == "1.step");
    CHECK(st[3].second->item() == 0.0f);
    CHECK(st[4].first == "1.exp_avg");
    CHECK(st[4].second->shape() == Shape{2, 2});
    CHECK_THROWS_AS(SGD({a, a}, SgdOptions{}), ArgumentError);
    CHECK_THROWS_AS(SGD({constant(Tensor(Shape{1}))}, SgdOptions{}), ArgumentError);
    AdamOptions bad;
    bad.beta1 = 1.0;
    CHECK_THROWS_AS(Adam({a}, bad), ArgumentError);
}

TEST_CASE("Adam(params, lr) is Adam with that learning rate and the other options' defaults") {
    Var a = parameter(Tensor(Shape{3}, {1.0f, -2.0f, 0.5f}));
    Var b = parameter(Tensor(Shape{3}, {1.0f, -2.0f, 0.5f}));
    AdamOptions o;
    o.lr = 0.05;
    Adam full({a}, o);
    Adam short_form({b}, 0.05);
    CHECK(short_form.lr == 0.05);
    auto step = [](Var& x, Adam& opt) {
        opt.zero_grad();
        backward(sum(x * x));
        opt.step();
    };
    for (int t = 0; t < 3; ++t) step(a, full), step(b, short_form);
    CHECK(a.value().vec() == b.value().vec());
}

TEST_CASE("Adam with a cosine schedule minimises a quadratic") {
    Var x = parameter(Tensor(Shape{3}, {5.0f, -4.0f, 0.0f}));
    const Tensor target(Shape{3}, {3.0f, 1.0f, -2.0f});
    AdamOptions o;
    o.lr = 0.2;
    Adam opt({x}, o);
    const LrSchedule sched = LrSchedule::cosine(0.2, 400, 10);
    for (long step = 0; step < 400; ++step) {
        opt.zero_grad();
        Var diff = x - constant(target);
        backward(sum(diff * diff));
        opt.lr = sched.at(step);
        opt.step();
    }
    CHECK(max_abs_diff(x.value(), target) < 1e-2f);
}

}  // TEST_SUITE

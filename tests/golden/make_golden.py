#!/usr/bin/python3
"""Golden values for minirec's differentiable ops, computed by an independent implementation.

How to regenerate (developer machines only; CI and users never run this, they only read the
committed fixture): install Debian's PyTorch (`apt-get install python3-torch`) and run, from the
repository root,

    /usr/bin/python3 tests/golden/make_golden.py          # writes tests/golden/ops_golden.txt

then `make tests && build/tests/minirec_tests -ts=golden`. The output is deterministic (a fixed
torch.Generator seed); commit the fixture together with any change to this script.

What it records. For each case: the op and its parameters, float32 inputs drawn here, one output
(several for split), a random upstream gradient gy for each output, and the gradient of
L = sum(y * gy) with respect to every float input. The float32 inputs are promoted to float64 for
the forward and backward passes, so the recorded values are the exact answers (rounded once to
float32) for exactly the float32 inputs the C++ test sees: the test's tolerance then only has to
cover minirec's own float32 rounding, not PyTorch's.

Where minirec fixes a convention PyTorch does not share, the case below builds minirec's meaning
out of PyTorch pieces and says so: masked softmax (masked entries get probability 0, a fully
masked row gives zeros) and masked log_softmax (masked entries are 0 rather than -inf, with no
gradient); max (the gradient goes to the first argmax); clamp (the gradient passes only strictly
inside (lo, hi)); segment_mean with weights (divides by the number of ids, not by the sum of the
weights). l2_normalize is F.normalize (x / max(||x||, eps)), gelu the erf form, layer_norm uses the
biased variance, segment_sum is EmbeddingBag(mode="sum") with include_last_offset.

Fixture format (plain text, one case per block, '#' lines are comments):
    case <op> <label>
    p <name> <number> ...               a parameter (a float, an int, or a list of them)
    in <name> <rank> <dims> <values>    a float input that requires grad (in the op's argument order)
    const <name> <rank> <dims> <values> a float input without gradient (masks)
    out <rank> <dims> <values>          an output (split has several, in order)
    gy <rank> <dims> <values>           the upstream gradient of the output with the same position
    grad <name> <rank> <dims> <values>  dL/d input <name>
    end
Inputs, masks and gy are printed with %.9g, which round-trips float32 exactly; outputs and gradients
with %.8g (a relative rounding of at most 5e-8, far inside the test's tolerance) to keep the file
small.
"""
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)
GEN = torch.Generator().manual_seed(20240611)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops_golden.txt")
INF = float("inf")


# ---- deterministic float32 inputs ---------------------------------------------------------------

def uniform(shape, lo=-2.0, hi=2.0):
    return torch.rand(shape, generator=GEN, dtype=torch.float32) * (hi - lo) + lo


def normal(shape, std=1.0):
    return torch.randn(shape, generator=GEN, dtype=torch.float32) * std


def away(x, points=(0.0,), gap=0.05):
    """Moves every element at least `gap` away from each kink in `points` (abs, relu, clamp)."""
    x = x.clone()
    for p in points:
        d = x - p
        close = d.abs() < gap
        x = torch.where(close, p + torch.where(d >= 0, 1.0, -1.0) * (gap + d.abs()), x)
    return x.to(torch.float32)


def distinct(x):
    """Breaks ties (max): adds a tiny increasing ramp so no two elements are equal."""
    ramp = torch.arange(x.numel(), dtype=torch.float32) * 1e-3
    return (x + ramp[torch.randperm(x.numel(), generator=GEN)].reshape(x.shape)).to(torch.float32)


def randint(n, hi):
    return torch.randint(0, hi, (n,), generator=GEN).tolist()


def mask01(shape, p_keep=0.7):
    return (torch.rand(shape, generator=GEN) < p_keep).to(torch.float32)


# ---- writing ------------------------------------------------------------------------------------

LINES = []
COUNTS = {}


def fmt_num(v):
    return "%.9g" % v


def fmt_tensor(t, digits=9):
    t = t.detach().to(torch.float32).contiguous()
    dims = list(t.shape)
    vals = " ".join("%.*g" % (digits, v) for v in t.reshape(-1).tolist())
    head = " ".join([str(len(dims))] + [str(d) for d in dims])
    return head + (" " + vals if vals else "")


def case(op, label, inputs, fn, params=None, consts=None):
    """inputs: [(name, float32 tensor)] requiring grad; consts: [(name, float32 tensor)];
    fn(*float64 inputs, **consts-as-float64) -> tensor or list of tensors (float64)."""
    params = params or {}
    consts = consts or []
    xs = [x.detach().to(torch.float64).requires_grad_(True) for _, x in inputs]
    cs = {n: c.to(torch.float64) for n, c in consts}
    ys = fn(*xs, **cs)
    if not isinstance(ys, (list, tuple)):
        ys = [ys]
    gys = [normal(y.shape) for y in ys]
    for y in ys:
        assert torch.isfinite(y).all(), (op, label)
    loss = sum((y * g.to(torch.float64)).sum() for y, g in zip(ys, gys))
    # an output that ignores its inputs (segments without ids) has no graph: all gradients are 0
    grads = torch.autograd.grad(loss, xs, allow_unused=True) if loss.requires_grad else [None] * len(xs)
    LINES.append("case %s %s" % (op, label))
    for k, v in params.items():
        vs = v if isinstance(v, (list, tuple)) else [v]
        LINES.append("p %s %s" % (k, " ".join(fmt_num(e) if isinstance(e, float) else str(int(e)) for e in vs)))
    for (n, x) in inputs:
        assert x.dtype == torch.float32
        LINES.append("in %s %s" % (n, fmt_tensor(x)))
    for (n, c) in consts:
        LINES.append("const %s %s" % (n, fmt_tensor(c)))
    for y in ys:
        LINES.append("out %s" % fmt_tensor(y, 8))
    for g in gys:
        LINES.append("gy %s" % fmt_tensor(g))
    for (n, x), g in zip(inputs, grads):
        if g is None:
            g = torch.zeros_like(x)
        assert torch.isfinite(g).all(), (op, label)
        LINES.append("grad %s %s" % (n, fmt_tensor(g, 8)))
    LINES.append("end")
    COUNTS[op] = COUNTS.get(op, 0) + 1


# ---- arithmetic with broadcasting -----------------------------------------------------------------

BCAST = [  # (label, shape a, shape b)
    ("same_2x3", (2, 3), (2, 3)),
    ("scalar_b", (3, 4), ()),
    ("row_b", (3, 5), (5,)),
    ("col_b", (4, 3), (4, 1)),
    ("outer", (4, 1), (1, 3)),
    ("batch_3d", (2, 3, 4), (3, 4)),
    ("lead1_3d", (1, 3, 4), (2, 1, 4)),
    ("a_bcast_4d", (3, 1), (2, 1, 3, 4)),
]
for label, sa, sb in BCAST:
    case("add", label, [("a", normal(sa)), ("b", normal(sb))], lambda a, b: a + b)
    case("sub", label, [("a", normal(sa)), ("b", normal(sb))], lambda a, b: a - b)
    case("mul", label, [("a", normal(sa)), ("b", normal(sb))], lambda a, b: a * b)
    # keep the divisor away from 0: |b| in [0.5, 2]
    b = uniform(sb, 0.5, 2.0) * torch.where(uniform(sb) < 0, -1.0, 1.0)
    case("div", label, [("a", normal(sa)), ("b", b)], lambda a, b: a / b)

case("neg", "3x4", [("x", normal((3, 4)))], lambda x: -x)
case("neg", "2x1x5", [("x", normal((2, 1, 5)))], lambda x: -x)
for s in (2.5, -0.75):
    case("add_scalar", "s%g" % s, [("x", normal((3, 5)))], lambda x, s=s: x + s, {"s": s})
    case("mul_scalar", "s%g" % s, [("x", normal((2, 3, 2)))], lambda x, s=s: x * s, {"s": s})
    case("sub_scalar", "s%g" % s, [("x", normal((4,)))], lambda x, s=s: x - s, {"s": s})
    case("rsub_scalar", "s%g" % s, [("x", normal((2, 3)))], lambda x, s=s: s - x, {"s": s})
    case("div_scalar", "s%g" % s, [("x", normal((3, 3)))], lambda x, s=s: x / s, {"s": s})
    case("radd_scalar", "s%g" % s, [("x", normal((5,)))], lambda x, s=s: s + x, {"s": s})
    case("rmul_scalar", "s%g" % s, [("x", normal((2, 2)))], lambda x, s=s: s * x, {"s": s})

# ---- unary maths and activations --------------------------------------------------------------------

UNARY_SHAPES = [("3x7", (3, 7)), ("2x3x5", (2, 3, 5)), ("17", (17,))]
for label, s in UNARY_SHAPES:
    case("exp", label, [("x", uniform(s, -4.0, 4.0))], torch.exp)
    case("log", label, [("x", uniform(s, 0.05, 8.0))], torch.log)
    case("sqrt", label, [("x", uniform(s, 0.05, 8.0))], torch.sqrt)
    case("abs", label, [("x", away(uniform(s, -3.0, 3.0)))], torch.abs)
    case("relu", label, [("x", away(uniform(s, -3.0, 3.0)))], torch.relu)
    case("sigmoid", label, [("x", uniform(s, -6.0, 6.0))], torch.sigmoid)
    case("tanh", label, [("x", uniform(s, -3.0, 3.0))], torch.tanh)
    case("gelu", label, [("x", uniform(s, -4.0, 4.0))], lambda x: F.gelu(x))
    case("softplus", label, [("x", uniform(s, -6.0, 6.0))], lambda x: F.softplus(x))
    case("log_sigmoid", label, [("x", uniform(s, -6.0, 6.0))], lambda x: F.logsigmoid(x))

# extremes where the naive formulas overflow or lose everything (softplus, log_sigmoid, sigmoid)
EXTREME = torch.tensor([-90.0, -40.0, -20.5, -15.0, -1e-3, 0.0, 2e-3, 15.0, 21.0, 40.0, 90.0])
case("softplus", "extremes", [("x", EXTREME)], lambda x: F.softplus(x, threshold=1000.0))
case("log_sigmoid", "extremes", [("x", EXTREME)], lambda x: F.logsigmoid(x))
case("sigmoid", "extremes", [("x", EXTREME)], torch.sigmoid)
case("tanh", "extremes", [("x", torch.tensor([-20.0, -9.0, -0.3, 1e-4, 0.3, 9.0, 20.0]))], torch.tanh)
case("exp", "wide", [("x", torch.tensor([-80.0, -30.0, -1e-3, 0.0, 1e-3, 10.0, 40.0, 80.0]))], torch.exp)
case("abs", "with_zero", [("x", torch.tensor([-1.5, 0.0, 2.25, -0.125]))], torch.abs)  # d|x|/dx = 0 at 0

for p in (2.0, 3.0, 0.5, -1.5, 1.7):
    case("pow", "p%g" % p, [("x", uniform((3, 5), 0.1, 3.0))], lambda x, p=p: torch.pow(x, p), {"p": p})
case("pow", "p2_negative_base", [("x", uniform((2, 4), -3.0, 3.0))], lambda x: torch.pow(x, 2.0), {"p": 2.0})

for lo, hi, s in ((-1.0, 1.0, (4, 6)), (0.0, 0.5, (3, 5)), (-0.25, 2.0, (2, 3, 3))):
    x = away(uniform(s, -3.0, 3.0), points=(lo, hi))
    case("clamp", "lo%g_hi%g" % (lo, hi), [("x", x)], lambda x, lo=lo, hi=hi: torch.clamp(x, lo, hi),
         {"lo": lo, "hi": hi})

# minirec's clamp passes the gradient only strictly inside (lo, hi); PyTorch's also at lo and hi,
# so we build minirec's rule: the forward is torch.clamp, the gradient flows where lo < x < hi
at_bounds = torch.tensor([[-1.0, -0.5, 0.0, 1.0], [1.5, -1.0, 1.0, 0.25]])
case("clamp", "at_bounds", [("x", at_bounds)],
     lambda x: torch.where((x > -1.0) & (x < 1.0), x, torch.clamp(x, -1.0, 1.0).detach()), {"lo": -1.0, "hi": 1.0})

for slope in (0.01, 0.2, -0.5):
    case("leaky_relu", "slope%g" % slope, [("x", away(uniform((3, 6), -3.0, 3.0)))],
         lambda x, slope=slope: F.leaky_relu(x, slope), {"slope": slope})

for label, xs, ms, value in (("same_shape", (3, 5), (3, 5), -1e9), ("row_mask", (4, 6), (6,), 0.0),
                             ("col_mask_3d", (2, 3, 4), (2, 3, 1), 2.5), ("batch_3d", (2, 3, 4), (3, 4), -7.0)):
    case("masked_fill", label, [("x", normal(xs))],
         lambda x, mask, value=value: x.masked_fill(mask == 0, value), {"value": value},
         consts=[("mask", mask01(ms, 0.6))])

# ---- reductions ------------------------------------------------------------------------------------------

for label, s in (("2x3x4", (2, 3, 4)), ("7", (7,)), ("5x1", (5, 1))):
    case("sum_all", label, [("x", normal(s))], lambda x: x.sum())
    case("mean_all", label, [("x", normal(s))], lambda x: x.mean())
    case("max_all", label, [("x", distinct(normal(s)))], lambda x: x.reshape(-1)[torch.argmax(x)])

AXES = [((2, 3, 4), 0, False), ((2, 3, 4), 1, True), ((2, 3, 4), 2, False), ((2, 3, 4), -1, True),
        ((5, 7), 0, True), ((5, 7), -1, False), ((9,), 0, False), ((2, 1, 3, 2), 2, True)]


def first_argmax(x, dim, keepdim):
    # torch.argmax returns the first maximal index; gather makes the gradient go there alone
    idx = torch.argmax(x, dim=dim, keepdim=True)
    y = torch.gather(x, dim, idx)
    return y if keepdim else y.squeeze(dim)


for s, ax, kd in AXES:
    label = "%s_ax%d%s" % ("x".join(map(str, s)), ax, "_keep" if kd else "")
    params = {"axis": ax, "keepdim": int(kd)}
    case("sum", label, [("x", normal(s))], lambda x, ax=ax, kd=kd: x.sum(ax, keepdim=kd), params)
    case("mean", label, [("x", normal(s))], lambda x, ax=ax, kd=kd: x.mean(ax, keepdim=kd), params)
    case("max", label, [("x", distinct(normal(s)))], lambda x, ax=ax, kd=kd: first_argmax(x, ax, kd), params)
    case("logsumexp", label, [("x", normal(s, 2.0))],
         lambda x, ax=ax, kd=kd: torch.logsumexp(x, ax, keepdim=kd), params)

# ties: minirec sends the whole gradient to the first maximum
tie = torch.tensor([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, -4.0, -1.0, -3.0]])
case("max", "ties_ax1", [("x", tie)], lambda x: first_argmax(x, 1, False), {"axis": 1, "keepdim": 0})
case("max", "ties_ax0_keep", [("x", tie)], lambda x: first_argmax(x, 0, True), {"axis": 0, "keepdim": 1})
case("max_all", "ties", [("x", tie)], lambda x: x.reshape(-1)[torch.argmax(x)])
case("logsumexp", "large_values", [("x", torch.tensor([[100.0, 101.0, 99.5], [-100.0, -101.0, -99.0]]))],
     lambda x: torch.logsumexp(x, 1), {"axis": 1, "keepdim": 0})

# ---- softmax and log_softmax over the last axis, with and without a mask --------------------------------


def masked_softmax(x, mask=None):
    if mask is None:
        return torch.softmax(x, -1)
    keep = torch.broadcast_to(mask != 0, x.shape)
    dead = ~keep.any(-1, keepdim=True)              # rows with every entry masked -> zeros
    z = x.masked_fill(~keep, -INF).masked_fill(dead, 0.0)
    return torch.where(keep, torch.softmax(z, -1), 0.0)


def masked_log_softmax(x, mask=None):
    if mask is None:
        return torch.log_softmax(x, -1)
    keep = torch.broadcast_to(mask != 0, x.shape)
    dead = ~keep.any(-1, keepdim=True)
    z = x.masked_fill(~keep, -INF).masked_fill(dead, 0.0)
    # minirec's convention: masked entries (and fully masked rows) are 0, not log 0 = -inf, so that
    # losses like -sum(target * log_softmax) stay finite; they are constants (no gradient).
    return torch.where(keep, torch.log_softmax(z, -1), 0.0)


for label, s in (("3x5", (3, 5)), ("2x3x7", (2, 3, 7)), ("1", (4, 1)), ("2x2x2x3", (2, 2, 2, 3))):
    case("softmax", label, [("x", normal(s, 2.0))], masked_softmax)
    case("log_softmax", label, [("x", normal(s, 2.0))], masked_log_softmax)
# logits of size 1e4: y = (x - m) - log sum e^(x - m) keeps y's own precision; x - (m + log sum)
# would round m + log sum at 1e4 and lose about 5e-4 in every entry
big = torch.tensor([[10000.0, 10001.5, 9999.25, 10000.5], [-10000.0, -10003.0, -10001.0, -9999.5]])
case("log_softmax", "logits_1e4", [("x", big)], masked_log_softmax)
case("softmax", "logits_1e4", [("x", big)], masked_softmax)
case("softmax", "large_values", [("x", torch.tensor([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]]))],
     masked_softmax)
case("log_softmax", "large_values", [("x", torch.tensor([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]]))],
     masked_log_softmax)

# masks: same shape, broadcast key-padding mask (B,1,T) over (B,Tq,T), a row mask, fully masked rows
m_same = mask01((3, 6), 0.6)
m_same[1] = 0.0  # a fully masked row
m_same[0, 0] = 1.0
m_pad = torch.tensor([[[1.0, 1.0, 1.0, 0.0, 0.0]], [[1.0, 1.0, 1.0, 1.0, 1.0]]])  # (2,1,5)
m_causal = torch.tril(torch.ones(4, 4))  # (4,4) broadcast over (2,4,4)
m_row = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])  # (7,)
m_dead = torch.tensor([[[0.0, 0.0, 0.0, 0.0]], [[1.0, 0.0, 1.0, 1.0]]])  # (2,1,4): batch 0 all masked
for name, fn in (("softmax", masked_softmax), ("log_softmax", masked_log_softmax)):
    case(name, "mask_same_dead_row", [("x", normal((3, 6), 2.0))], fn, consts=[("mask", m_same)])
    case(name, "mask_keypad_2x3x5", [("x", normal((2, 3, 5), 2.0))], fn, consts=[("mask", m_pad)])
    case(name, "mask_causal_2x4x4", [("x", normal((2, 4, 4), 2.0))], fn, consts=[("mask", m_causal)])
    case(name, "mask_row_3x7", [("x", normal((3, 7), 2.0))], fn, consts=[("mask", m_row)])
    case(name, "mask_dead_batch_2x3x4", [("x", normal((2, 3, 4), 2.0))], fn, consts=[("mask", m_dead)])
    case(name, "mask_ones_2x5", [("x", normal((2, 5), 2.0))], fn, consts=[("mask", torch.ones(2, 5))])

# ---- layer_norm and l2_normalize ------------------------------------------------------------------------------

for label, s in (("4x8", (4, 8)), ("2x3x5", (2, 3, 5)), ("1x16", (1, 16)), ("3x1", (3, 1))):
    d = s[-1]
    case("layer_norm", label, [("x", normal(s, 1.5) + 0.5)],
         lambda x, d=d: F.layer_norm(x, (d,), eps=1e-5), {"eps": 1e-5})
    case("layer_norm_affine", label,
         [("x", normal(s, 1.5) - 0.3), ("gamma", uniform((d,), 0.5, 1.5)), ("beta", normal((d,), 0.5))],
         lambda x, g, b, d=d: F.layer_norm(x, (d,), g, b, eps=1e-5), {"eps": 1e-5})
case("layer_norm", "eps0.1_small_var", [("x", normal((3, 6), 0.2))],
     lambda x: F.layer_norm(x, (6,), eps=0.1), {"eps": 0.1})
case("layer_norm_affine", "eps1e-3", [("x", normal((2, 2, 4))), ("gamma", normal((4,))), ("beta", normal((4,)))],
     lambda x, g, b: F.layer_norm(x, (4,), g, b, eps=1e-3), {"eps": 1e-3})

# a constant row: var = 0, so y = 0 and dx = (g - mean g) / sqrt(eps)
x_const = torch.cat([torch.full((1, 5), 0.75), normal((2, 5))], 0)
case("layer_norm", "constant_row", [("x", x_const)], lambda x: F.layer_norm(x, (5,), eps=1e-5), {"eps": 1e-5})

for label, s in (("4x8", (4, 8)), ("2x3x5", (2, 3, 5)), ("3x1", (3, 1))):
    case("l2_normalize", label, [("x", normal(s))], lambda x: F.normalize(x, dim=-1, eps=1e-12), {"eps": 1e-12})
# a zero row: y = 0 and dx = gy / eps (1e12 gy): the clamp stops the norm's gradient
case("l2_normalize", "zero_row", [("x", torch.cat([torch.zeros(1, 3), normal((1, 3))], 0))],
     lambda x: F.normalize(x, dim=-1, eps=1e-12), {"eps": 1e-12})
# eps bites on the small rows: there y = x / eps and the norm gets no gradient
x_small = torch.cat([normal((2, 4)), normal((2, 4), 0.05)], 0)
case("l2_normalize", "eps0.5_small_rows", [("x", x_small)], lambda x: F.normalize(x, dim=-1, eps=0.5), {"eps": 0.5})

# ---- matmul ---------------------------------------------------------------------------------------------------------


def mm(a, b, ta, tb):
    if ta:
        a = a.transpose(-1, -2)
    if tb:
        b = b.transpose(-1, -2)
    return a @ b


MM = [  # (label, M, K, N, batch a, batch b)  batch b None = 2-D right operand
    ("1x1x1", 1, 1, 1, None, None),
    ("1x37x1_dot", 1, 37, 1, None, None),
    ("6x1x4_outer", 6, 1, 4, None, None),
    ("3x4x5", 3, 4, 5, None, None),
    ("5x13x3", 5, 13, 3, None, None),
    ("b2_3x4x5", 3, 4, 5, 2, 2),
    ("b3_4x5x2", 4, 5, 2, 3, 3),
    ("b2_3x6x4_shared_b", 3, 6, 4, 2, None),
]
for label, M, K, N, ba, bb in MM:
    for ta in (False, True):
        for tb in (False, True):
            sa = (K, M) if ta else (M, K)
            sb = (N, K) if tb else (K, N)
            if ba:
                sa = (ba,) + sa
            if bb:
                sb = (bb,) + sb
            case("matmul", "%s_ta%d_tb%d" % (label, ta, tb), [("a", normal(sa)), ("b", normal(sb))],
                 lambda a, b, ta=ta, tb=tb: mm(a, b, ta, tb), {"trans_a": int(ta), "trans_b": int(tb)})
# bigger products, one layout each, so the GEMM's blocking and vector tails are exercised
for label, sa, sb, ta, tb in (("9x33x5", (9, 33), (33, 5), 0, 0), ("3x70x4_tb", (3, 70), (4, 70), 0, 1),
                              ("b2_5x40x3_ta_shared_b", (2, 40, 5), (40, 3), 1, 0)):
    case("matmul", label, [("a", normal(sa)), ("b", normal(sb))],
         lambda a, b, ta=ta, tb=tb: mm(a, b, ta, tb), {"trans_a": ta, "trans_b": tb})

# ---- shapes --------------------------------------------------------------------------------------------------------

for label, s, t in (("2x6_to_3x4", (2, 6), (3, 4)), ("2x3x4_to_m1x4", (2, 3, 4), (-1, 4)),
                    ("6_to_1x2x3", (6,), (1, 2, 3)), ("2x3x4_to_24", (2, 3, 4), (24,)),
                    ("4x3_to_2xm1x2", (4, 3), (2, -1, 2))):
    case("reshape", label, [("x", normal(s))], lambda x, t=t: x.reshape(t), {"shape": list(t)})

for label, s in (("3x5", (3, 5)), ("2x3x4", (2, 3, 4)), ("2x2x3x5", (2, 2, 3, 5)), ("1x4", (1, 4))):
    case("transpose", label, [("x", normal(s))], lambda x: x.transpose(-1, -2))

for s, dims in (((3, 4), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (1, 0, 2)),
                ((2, 3, 2, 5), (0, 2, 1, 3)), ((2, 3, 2, 5), (3, 1, 0, 2))):
    label = "%s_%s" % ("x".join(map(str, s)), "".join(map(str, dims)))
    case("permute", label, [("x", normal(s))], lambda x, dims=dims: x.permute(*dims), {"dims": list(dims)})

for label, shapes, ax in (("ax0_2", [(2, 3), (4, 3)], 0), ("ax1_3", [(2, 3), (2, 1), (2, 4)], 1),
                          ("ax_m1_3d", [(2, 3, 2), (2, 3, 5)], -1), ("ax1_3d", [(2, 1, 4), (2, 3, 4), (2, 2, 4)], 1),
                          ("ax0_1d", [(3,), (5,)], 0), ("ax2_4d", [(1, 2, 2, 3), (1, 2, 1, 3)], 2)):
    ins = [("x%d" % i, normal(s)) for i, s in enumerate(shapes)]
    case("concat", label, ins, lambda *xs, ax=ax: torch.cat(xs, ax), {"axis": ax})

for label, s, sizes, ax in (("ax0", (5, 3), [2, 3], 0), ("ax1_3parts", (2, 7), [1, 4, 2], 1),
                            ("ax_m1_3d", (2, 3, 6), [3, 3], -1), ("ax1_3d", (2, 4, 3), [1, 1, 2], 1)):
    case("split", label, [("x", normal(s))], lambda x, sizes=sizes, ax=ax: list(torch.split(x, sizes, ax)),
         {"sizes": sizes, "axis": ax})

for label, s, ax, a, b in (("ax0", (5, 3), 0, 1, 4), ("ax1", (3, 6), 1, 2, 3), ("ax_m1_3d", (2, 3, 7), -1, 0, 5),
                           ("ax1_3d_all", (2, 4, 3), 1, 0, 4), ("ax2_4d", (2, 2, 5, 3), 2, 3, 5)):
    case("slice", label, [("x", normal(s))], lambda x, ax=ax, a=a, b=b: x.narrow(ax, a, b - a),
         {"axis": ax, "start": a, "end": b})

for label, s, ax in (("ax0", (3, 4), 0), ("ax1", (3, 4), 1), ("ax2", (3, 4), 2), ("ax_m1", (2, 3), -1),
                     ("ax_m2_3d", (2, 3, 4), -2)):
    case("unsqueeze", label, [("x", normal(s))], lambda x, ax=ax: x.unsqueeze(ax), {"axis": ax})
for label, s, ax in (("ax0", (1, 4), 0), ("ax1", (3, 1, 2), 1), ("ax_m1", (2, 3, 1), -1), ("ax2_4d", (2, 1, 1, 3), 2)):
    case("squeeze", label, [("x", normal(s))], lambda x, ax=ax: x.squeeze(ax), {"axis": ax})

for label, s, t in (("row_to_3x4", (4,), (3, 4)), ("col_to_3x4", (3, 1), (3, 4)), ("scalar_to_2x3", (), (2, 3)),
                    ("lead_2x3x4", (3, 4), (2, 3, 4)), ("mixed_4d", (2, 1, 3, 1), (2, 4, 3, 5)), ("same", (2, 3), (2, 3))):
    case("broadcast_to", label, [("x", normal(s))], lambda x, t=t: x.expand(t), {"shape": list(t)})

# ---- lookups --------------------------------------------------------------------------------------------------------

for label, N, D, ids in (("repeats", 6, 4, [3, 0, 3, 5, 1, 3]), ("one", 3, 5, [2]), ("random", 11, 7, randint(13, 11)),
                         ("d1", 4, 1, [1, 1, 2])):
    case("gather_rows", label, [("table", normal((N, D)))], lambda t, ids=ids: t[torch.tensor(ids)], {"ids": ids})


def segments(t, ids, offsets, w, mean):
    """y_s = (1 / n_s if mean else 1) * sum over j in segment s of w_j t[ids_j]; empty segments give 0."""
    rows = []
    for s in range(len(offsets) - 1):
        a, b = offsets[s], offsets[s + 1]
        acc = torch.zeros(t.shape[1], dtype=t.dtype)
        for j in range(a, b):
            acc = acc + (1.0 if w is None else w[j]) * t[ids[j]]
        if mean and b > a:
            acc = acc / (b - a)
        rows.append(acc)
    return torch.stack(rows)


def segment_sum_bag(t, ids, offsets, w):
    # the same thing as nn.EmbeddingBag(mode="sum"), with minirec's S+1 offsets
    psw = None if w is None else torch.tensor(w, dtype=t.dtype)
    return F.embedding_bag(torch.tensor(ids, dtype=torch.long), t, torch.tensor(offsets), mode="sum",
                           per_sample_weights=psw, include_last_offset=True)


SEG = [  # (label, N, D, ids, offsets)
    ("basic", 7, 4, [1, 4, 4, 0, 6, 2, 1], [0, 2, 5, 7]),
    ("empty_segments", 5, 3, [0, 3, 3, 2], [0, 0, 3, 3, 4]),
    ("one_id_each", 4, 6, [3, 1, 2], [0, 1, 2, 3]),
    ("random", 12, 5, randint(20, 12), [0, 3, 4, 9, 9, 15, 20]),
    ("no_ids", 3, 2, [], [0, 0, 0]),
]
for label, N, D, ids, offsets in SEG:
    w = [round(v, 3) for v in uniform((len(ids),), -1.0, 2.0).tolist()]
    w = [float(torch.tensor(v, dtype=torch.float32)) for v in w]  # exactly float32
    for weighted in (False, True):
        ww = w if weighted else None
        params = {"ids": ids, "offsets": offsets}
        if weighted:
            params["weights"] = ww
        sfx = "_weighted" if weighted else ""
        tbl = normal((N, D))
        # cross-check our loop against torch's EmbeddingBag before recording it
        a = segments(tbl.double(), ids, offsets, ww, False)
        b = segment_sum_bag(tbl.double(), ids, offsets, ww)
        assert torch.allclose(a, b, rtol=0, atol=1e-12), label
        case("segment_sum", label + sfx, [("table", tbl)],
             lambda t, ids=ids, offsets=offsets, ww=ww: segment_sum_bag(t, ids, offsets, ww), params)
        if not weighted:
            m_bag = F.embedding_bag(torch.tensor(ids, dtype=torch.long), tbl.double(), torch.tensor(offsets), mode="mean",
                                    include_last_offset=True)
            assert torch.allclose(segments(tbl.double(), ids, offsets, None, True), m_bag, rtol=0, atol=1e-12)
        case("segment_mean", label + sfx, [("table", normal((N, D)))],
             lambda t, ids=ids, offsets=offsets, ww=ww: segments(t, ids, offsets, ww, True), params)

# ---- write -------------------------------------------------------------------------------------------------------------

with open(OUT, "w") as f:
    f.write("# minirec golden values, written by tests/golden/make_golden.py (PyTorch %s, float64 reference).\n"
            % torch.__version__)
    f.write("# Do not edit by hand: regenerate with /usr/bin/python3 tests/golden/make_golden.py\n")
    f.write("# cases %d\n" % sum(COUNTS.values()))
    f.write("\n".join(LINES) + "\n")
print("wrote %s: %d cases, %d bytes" % (OUT, sum(COUNTS.values()), os.path.getsize(OUT)))
for op in sorted(COUNTS):
    print("  %-18s %d" % (op, COUNTS[op]))

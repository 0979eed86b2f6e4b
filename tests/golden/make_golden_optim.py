#!/usr/bin/python3
"""Golden fixtures for minirec's optimizers (nn/optim.cpp), produced by PyTorch's own optimizers.

Run with Debian's Python, which has python3-torch:
    /usr/bin/python3 tests/golden/make_golden_optim.py > tests/golden/optim_golden.txt
For each case we take one float32 parameter of 6 elements, feed a fixed gradient per step and
record the parameter after each step. Format (one record per line, numbers as %.9g, which
round-trips float32 exactly):
    case <name> opt=<SGD|Adagrad|Adam|AdamW> key=value ...   hyper-parameters (PyTorch names)
    init v0 ... v5                                           the parameter before step 1
    grad g0 ... g5                                           the gradient given at this step
    after p0 ... p5                                          the parameter after this step
    end
This script is separate from any golden script for the core ops (make_golden.py).
"""
import torch

torch.set_default_dtype(torch.float32)

INIT = [0.5, -1.25, 2.0, 0.0, -0.03125, 3.5]
# Gradients of different signs and scales, including a zero and one large entry.
GRADS = [
    [0.1, -0.2, 0.3, 0.0, 1.5, -0.05],
    [-0.4, 0.25, 0.0, 0.7, -2.0, 0.01],
    [0.05, 0.05, -0.6, -0.1, 0.3, 4.0],
    [1.0, -1.0, 0.125, 0.2, 0.0, -0.3],
    [0.3, 0.6, -0.9, 0.0, 0.45, 0.002],
]

CASES = [
    ("sgd_plain", torch.optim.SGD, dict(lr=0.1)),
    ("sgd_momentum_wd", torch.optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("sgd_dampening", torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("sgd_nesterov", torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ("adagrad", torch.optim.Adagrad, dict(lr=0.1)),
    ("adagrad_decay_wd", torch.optim.Adagrad,
     dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1, eps=1e-10)),
    ("adam", torch.optim.Adam, dict(lr=0.01)),
    ("adam_wd", torch.optim.Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", torch.optim.AdamW, dict(lr=0.01)),  # PyTorch's default weight_decay = 0.01
    ("adamw_wd", torch.optim.AdamW, dict(lr=0.03, betas=(0.85, 0.995), eps=1e-7, weight_decay=0.2)),
]


def fmt(values):
    return " ".join("%.9g" % v for v in values)


def main():
    print("# PyTorch %s optimizer goldens; written by tests/golden/make_golden_optim.py" % torch.__version__)
    for name, cls, kw in CASES:
        p = torch.nn.Parameter(torch.tensor(INIT, dtype=torch.float32))
        opt = cls([p], **kw)
        hyper = dict(opt.param_groups[0])
        keys = ["lr", "momentum", "dampening", "weight_decay", "nesterov", "lr_decay",
                "initial_accumulator_value", "eps", "betas"]
        parts = ["opt=" + cls.__name__]
        for k in keys:
            if k not in hyper:
                continue
            v = hyper[k]
            if k == "betas":
                parts.append("beta1=%r" % v[0])
                parts.append("beta2=%r" % v[1])
            elif isinstance(v, bool):
                parts.append("%s=%d" % (k, int(v)))
            else:
                parts.append("%s=%r" % (k, float(v)))
        print("case %s %s" % (name, " ".join(parts)))
        print("init " + fmt(p.detach().tolist()))
        for g in GRADS:
            p.grad = torch.tensor(g, dtype=torch.float32)
            opt.step()
            print("grad " + fmt(p.grad.tolist()))
            print("after " + fmt(p.detach().tolist()))
        print("end")


if __name__ == "__main__":
    main()

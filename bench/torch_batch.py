#!/usr/bin/python3
"""torch_batch.py - ../shared/reference/torch_ref.py's training steps at a chosen batch size.

torch_ref.py (not ours: read it, never edit or copy it) fixes each configuration's batch size inside
its build() - ctr_mlp, mmoe, autoint 256, bert4rec 128, two_tower 512 - and has no flag for it. This
driver loads that file by path, without running its main block, makes its build() generate the
batches at --batch N, and times each configuration with torch_ref.py's own run_model(): the same
models, data, warm-up, median step and CSV columns (the batch column reads N), so that
bench/compare_torch.sh reads its rows as it reads torch_ref.py's.

  /usr/bin/python3 bench/torch_batch.py --batch 1024 --model ctr_mlp,mmoe --threads 1 --csv t.csv
  /usr/bin/python3 bench/torch_batch.py --model all --steps 100        (each at its own batch)

Flags of this driver: --batch N (1 to 16384; without it each configuration runs at torch_ref.py's
batch), --model (all, or a comma-separated list of configurations), --ref PATH (default $TORCH_REF,
else ../shared/reference/torch_ref.py beside the project). Every other flag goes to torch_ref.py:
--threads, --steps, --warmup, --pool, --seed, --csv, --steps-csv, --b4r-logits, --dropout.

A developer tool, as torch_ref.py is: it needs Debian's python3-torch; CI never runs it.
"""
import argparse
import ast
import importlib.util
import os
import sys

MAX_BATCH = 16384  # as bench_train_step's --batch
# torch_ref.py's data makers; build() calls each as make_x(g, pool, B, ...).
DATA_MAKERS = ("make_ctr", "make_mmoe", "make_bert4rec", "make_two_tower")


def load_torch_ref(path, ref_argv):
    """torch_ref.py as a module, its main block left out. It parses sys.argv and runs the benchmarks
    at import time, so we parse its source, keep the statements before the top-level
    `if args.model == ...` that starts the runs, and execute those with ref_argv as sys.argv."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    main = [i for i, node in enumerate(tree.body)
            if isinstance(node, ast.If) and "args.model" in ast.unparse(node.test)]
    if not main:
        sys.exit(f"torch_batch.py: {path}: no top-level 'if args.model ...' block; has torch_ref.py changed?")
    tree.body = tree.body[:main[0]]
    spec = importlib.util.spec_from_file_location("torch_ref", path)
    ref = importlib.util.module_from_spec(spec)
    sys.argv = [path] + ref_argv
    exec(compile(tree, path, "exec"), ref.__dict__)  # noqa: S102 - our own reference file
    return ref


def set_batch(ref, batch):
    """Makes ref.build(name, g) build at `batch`: the data makers get it in place of build()'s
    literal B, and build() reports it. The models and losses do not depend on B (two_tower's labels
    come from the logits' shape). The random draws are the same calls in the same order as at the
    configuration's own batch, only of another size."""
    for name in DATA_MAKERS:
        make = getattr(ref, name)
        setattr(ref, name, lambda g, pool, B, *rest, _make=make, **kw: _make(g, pool, batch, *rest, **kw))
    build = ref.build

    def build_at_batch(name, g):
        model, _, data, loss = build(name, g)
        rows = data[0][0].shape[0]
        if rows != batch:  # a new data path in torch_ref.py that this driver does not reach
            sys.exit(f"torch_batch.py: {name}: batches of {rows} rows, not {batch}; has torch_ref.py changed?")
        return model, batch, data, loss
    ref.build = build_at_batch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=None, help="batch size of every configuration (default: their own)")
    ap.add_argument("--model", default="all", help="all, or a comma-separated list of configurations")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--ref", default=os.environ.get("TORCH_REF", os.path.join(here, "..", "shared", "reference",
                                                                             "torch_ref.py")))
    args, rest = ap.parse_known_args()
    if args.batch is not None and not 1 <= args.batch <= MAX_BATCH:
        ap.error(f"--batch wants a whole number from 1 to {MAX_BATCH}, got {args.batch}")
    if not os.path.isfile(args.ref):
        ap.error(f"--ref: {args.ref} not found (set TORCH_REF or --ref)")

    ref = load_torch_ref(args.ref, ["--model", "all"] + rest)  # its --model is ours; it needs one
    models = ref.MODELS if args.model == "all" else args.model.split(",")
    unknown = [m for m in models if m not in ref.MODELS]
    if unknown:
        ap.error(f"--model: unknown {', '.join(unknown)} (choose from all, {', '.join(ref.MODELS)})")
    if args.batch is not None:
        set_batch(ref, args.batch)
    for m in models:
        ref.run_model(m)
    print(f"# torch {ref.torch.__version__} threads={ref.torch.get_num_threads()} batch={args.batch or 'own'} "
          f"openblas={ref.openblas_corename()}", file=sys.stderr)


if __name__ == "__main__":
    main()

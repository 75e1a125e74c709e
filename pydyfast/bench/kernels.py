"""``python -m pydyfast.bench kernels``: every kernel beside its NumPy reference and PyTorch.

Usage: ``python -m pydyfast.bench kernels [--family NAME ...] [--device cpu|cuda] [--threads N]
[--repeat N] [--warmup N] [--quick] [--contend] [--json PATH]``.

The cases are the ``CASES`` lists of the modules in ``pydyfast/bench/kernel_cases/`` (contract in
``pydyfast/bench/kernel_case.py``). Each framework runs in its own subprocess (this module with
``--worker``) with OpenMP, OpenBLAS, MKL and torch limited to the same thread count: two thread
pools in one process were seen to slow torch by an order of magnitude on 2 cores. A worker
warms each callable up, then takes the median of ``--repeat`` timed calls. The table gives the
milliseconds of each framework and the time ratios compiled/numpy and compiled/torch (below 1
means the compiled kernel is faster); "-" marks a framework that is missing or cannot run the case.
``--contend`` times pydyfast and torch again, each worker beside one busy process, and prints
both pydyfast/torch ratios per kernel and pass with their rise (``contend.py``).
"""
import argparse
import importlib
import json
import pkgutil
import statistics
import sys
import time

import numpy as np

from . import contend
from .worker import run_worker, write_json

FRAMEWORKS = ("pydyfast", "numpy", "torch")
PASSES = ("forward", "backward")


def discover(families=None):
    """{family: CASES} of every module in pydyfast.bench.kernel_cases (or the named ones)."""
    from . import kernel_cases
    names = sorted(m.name for m in pkgutil.iter_modules(kernel_cases.__path__))
    if families:
        unknown = sorted(set(families) - set(names))
        if unknown:
            raise SystemExit(f"pydyfast.bench kernels: unknown families {unknown}; available: "
                             f"{names}")
        names = [n for n in names if n in families]
    return {n: importlib.import_module(f"{kernel_cases.__name__}.{n}").CASES for n in names}


def op_case(framework, device, arrays, pydyfast_fn, torch_fn, seed=0):
    """A ``setup`` result for an op on Tensors, shared by the kernel families.

    arrays: the float inputs (numpy); every one requires grad. "forward" runs the op with the
    graph recorded, as in training; "backward" runs the backward of one recorded forward (graph
    retained) for a fixed random output gradient, clearing the input gradients first.
    """
    if framework == "torch":
        import torch
        if device == "cuda" and not torch.cuda.is_available():
            raise NotImplementedError("torch has no CUDA device here")
        inputs = [torch.tensor(a, device=device, requires_grad=True) for a in arrays]
        fn, wrap = torch_fn, (lambda g: torch.tensor(g, device=device))
    else:
        import pydyfast
        from pydyfast import backend
        if device == "cuda" and not pydyfast.cuda.is_available():
            raise NotImplementedError("cupy has no CUDA device here")
        backend.set_kernels("numpy" if framework == "numpy" else "native")
        inputs = [pydyfast.Tensor(a, device=device, requires_grad=True) for a in arrays]
        fn, wrap = pydyfast_fn, (lambda g: pydyfast.Tensor(g, device=device))
    out = fn(*inputs)
    grad = wrap(np.random.default_rng(seed).standard_normal(out.shape).astype(arrays[0].dtype))

    def backward():
        for t in inputs:
            t.grad = None
        out.backward(grad, retain_graph=True)

    return {"forward": lambda: fn(*inputs), "backward": backward}


def _synchronizer(framework, device):
    if device != "cuda":
        return lambda: None
    if framework == "torch":
        import torch
        return torch.cuda.synchronize
    import cupy
    return lambda: cupy.cuda.Device().synchronize()


def _time(fn, sync, warmup, repeat):
    """Median milliseconds of ``repeat`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def worker(framework, families, device, threads, warmup, repeat):
    """Time every case on one framework; returns {"family/name": {pass: ms or None}}."""
    if framework == "torch":
        try:
            import torch
        except ImportError:
            return {}
        torch.set_num_threads(threads)
    else:
        import pydyfast
        pydyfast.backend.set_num_threads(threads)
    results = {}
    for family, cases in discover(families).items():
        for case in cases:
            key = f"{family}/{case.name}"
            try:
                calls = case.setup(framework, device)
            except (NotImplementedError, ImportError):
                results[key] = {}
                continue
            sync = _synchronizer(framework, device)
            results[key] = {p: _time(calls[p], sync, warmup, repeat)
                            for p in PASSES if calls.get(p) is not None}
            del calls
    return results


def _run_worker(framework, args, contended=False):
    """One framework in its own process with its thread pools limited, beside a busy process
    when ``contended``; {} if it fails."""
    worker_args = [framework, "--device", args.device, "--threads", args.threads,
                   "--repeat", args.repeat, "--warmup", args.warmup]
    worker_args += [a for f in args.family or () for a in ("--family", f)]
    with contend.maybe_busy(contended):
        figures, stderr = run_worker(
            "kernels", worker_args, args.threads,
            env={"PYDYFAST_KERNELS": "numpy" if framework == "numpy" else "native"})
    if figures is None:
        print(f"pydyfast.bench kernels: the {framework} worker failed:\n{stderr[-2000:]}",
              file=sys.stderr)
        return {}
    return figures


def _ratio(a, b):
    return a / b if a is not None and b else None


def _fmt(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows):
    """The printed table of the rows built by ``collect``."""
    head = ("kernel", "shape", "pass", "pydyfast ms", "numpy ms", "torch ms", "pyd/numpy",
            "pyd/torch")
    body = [(r["kernel"], r["shape"], r["pass"], _fmt(r["ms"]["pydyfast"]),
             _fmt(r["ms"]["numpy"]), _fmt(r["ms"]["torch"]), _fmt(r["pydyfast/numpy"], 2),
             _fmt(r["pydyfast/torch"], 2)) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(line, widths)) for line in [head] + body]
    return "\n".join([lines[0], "-" * len(lines[0])] + lines[1:])


def collect(cases, timings):
    """One row per case and pass (plus fwd+bwd when both ran) with the ratios."""
    rows = []
    for key, case in cases:
        per_fw = {fw: timings.get(fw, {}).get(key, {}) for fw in FRAMEWORKS}
        passes = [p for p in PASSES if any(p in t for t in per_fw.values())]
        if len(passes) == 2:
            for t in per_fw.values():
                if "forward" in t and "backward" in t:
                    t["fwd+bwd"] = t["forward"] + t["backward"]
            passes.append("fwd+bwd")
        for p in passes:
            ms = {fw: per_fw[fw].get(p) for fw in FRAMEWORKS}
            rows.append({"kernel": key, "shape": case.shape, "pass": p, "ms": ms,
                         "pydyfast/numpy": _ratio(ms["pydyfast"], ms["numpy"]),
                         "pydyfast/torch": _ratio(ms["pydyfast"], ms["torch"])})
    return rows


def contention_rows(rows, busy_rows):
    """The rows of ``contend.table``: pydyfast/torch quiet and contended, per kernel and pass;
    adds the contended figures to ``rows``."""
    busy_by_key = {(r["kernel"], r["pass"]): r for r in busy_rows}
    table_rows = []
    for row in rows:
        busy = busy_by_key.get((row["kernel"], row["pass"]))
        if busy is None:  # a pass only numpy ran: no pydyfast/torch ratio either way
            continue
        row["contended"] = {"ms": busy["ms"], "pydyfast/torch": busy["pydyfast/torch"]}
        slowdown = {fw: _ratio(busy["ms"][fw], row["ms"][fw]) for fw in ("pydyfast", "torch")}
        table_rows.append((f"{row['kernel']} {row['pass']}", row["pydyfast/torch"],
                           busy["pydyfast/torch"], slowdown))
    return table_rows


def _parser():
    p = argparse.ArgumentParser(prog="python -m pydyfast.bench kernels", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--family", action="append", help="kernel family (module of kernel_cases); "
                   "repeat for several; default all")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int, default=2, help="threads of every framework")
    p.add_argument("--repeat", type=int, default=20, help="timed calls per case (median)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    p.add_argument("--quick", action="store_true", help="3 timed calls after 1 warm-up")
    p.add_argument("--contend", action="store_true", help="time pydyfast and torch again, "
                   "each beside one busy process, and compare the ratios")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.threads < 1:
        raise SystemExit("pydyfast.bench kernels: --threads must be positive")
    if args.quick:
        args.repeat, args.warmup = min(args.repeat, 3), min(args.warmup, 1)
    if args.worker:
        print(json.dumps(worker(args.worker, args.family, args.device, args.threads,
                                args.warmup, args.repeat)))
        return 0
    cases = [(f"{family}/{c.name}", c) for family, cs in discover(args.family).items()
             for c in cs]
    timings = {fw: _run_worker(fw, args) for fw in FRAMEWORKS}
    rows = collect(cases, timings)
    print(f"pydyfast.bench kernels: device={args.device} threads={args.threads} "
          f"median of {args.repeat} after {args.warmup} warm-up; ratios are time ratios "
          f"(below 1: compiled faster)")
    print(table(rows))
    if args.contend:
        busy = {fw: _run_worker(fw, args, contended=True) for fw in ("pydyfast", "torch")}
        print()
        print(contend.table(contention_rows(rows, collect(cases, busy)), "kernel pass"))
    write_json(args.json, {"device": args.device, "threads": args.threads,
                           "repeat": args.repeat, "warmup": args.warmup, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())

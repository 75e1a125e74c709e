"""``python -m pydyfast.bench train``: seconds per training step of the example models, pydyfast
beside PyTorch and PyDyNet.

A step is forward, loss, ``zero_grad``, backward and an Adam update on one batch already held as
tensors. Models (defined once in ``examples.models``, so every framework trains the same one):

  mlp          3-layer MLP 784-1024-1024-10, batch 256x1x28x28, cross-entropy
  lenet        LeNet-5 of PyDyNet's MNIST example, batch 256x1x28x28, cross-entropy
  transformer  1-layer encoder, dim 512, 4 heads, feed-forward 1536, sequence 45, batch 256,
               vocabulary 5000, 2 classes
  gru          GRU(1 -> 32) + Linear over 40 steps, batch 256, mean squared error

Each (framework, model) pair runs in its own process with the same thread count for the
framework's kernels and for BLAS (OpenBLAS/OpenMP threads of two frameworks in one process
distort both). pydyfast and PyTorch compute in float32, PyDyNet in float64 (all it supports).
Times are medians over the timed steps after warm-up; peak memory is the process's peak
resident set (VmHWM), which includes the framework itself, with the resident set right after
import beside it.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from .worker import run_worker, write_json

MODELS = ("mlp", "lenet", "transformer", "gru")
FRAMEWORKS = ("pydyfast", "torch", "pydynet")
TARGETS = {"mlp": 1.25, "lenet": 1.5, "transformer": 1.25, "gru": 1.25}  # pydyfast/torch
MEMORY_TARGET = 1.5  # pydyfast peak RSS / torch peak RSS
BATCH, SEQ, VOCAB, WINDOW = 256, 45, 5000, 40


def _examples():
    """``examples.models`` and ``examples.frameworks`` from the source checkout."""
    try:
        from examples import frameworks, models
    except ImportError:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        sys.path.insert(0, root)
        try:
            from examples import frameworks, models
        except ImportError as exc:
            raise SystemExit("pydyfast.bench train: needs the examples/ package of a source "
                             f"checkout (looked in {root}): {exc}") from exc
    return frameworks, models


def _memory_mib():
    """(current, peak) resident set of this process in MiB, from /proc/self/status."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", float("nan")), fields.get("VmHWM", float("nan"))


def _problem(fw, models, name, rng):
    """The model, its forward inputs, its targets and its loss for one benchmark."""
    if name in ("mlp", "lenet"):
        model = (models.mlp if name == "mlp" else models.lenet)(fw)
        inputs = [rng.random((BATCH, 1, 28, 28))]
        return model, inputs, rng.integers(0, 10, BATCH), fw.nn.CrossEntropyLoss()
    if name == "transformer":
        model = models.transformer_classifier(fw, VOCAB, SEQ, dim=512, heads=4, expansion=3)
        if fw.name == "pydynet":  # PyDyNet's Embedding leaves its weight uninitialised
            model.embedding.reset_parameters()
        ids = rng.integers(1, VOCAB, (BATCH, SEQ))
        return (model, [ids, models.padding_mask(ids)], rng.integers(0, 2, BATCH),
                fw.nn.CrossEntropyLoss())
    model = models.gru_regressor(fw)
    return (model, [rng.standard_normal((BATCH, WINDOW, 1))],
            rng.standard_normal((BATCH, 1)), fw.nn.MSELoss())


def _worker(framework, name, steps, warmup, threads, budget):
    frameworks, models = _examples()
    fw = frameworks.Framework(framework)
    fw.set_num_threads(threads)
    import_rss, _ = _memory_mib()
    fw.manual_seed(0)
    model, inputs, target, criterion = _problem(fw, models, name, np.random.default_rng(0))
    inputs = [fw.tensor(a) for a in inputs]
    target = fw.tensor(target)
    optimizer = fw.optim.Adam(model.parameters(), lr=1e-3)
    def step():
        t0 = time.perf_counter()
        loss = criterion(model(*inputs), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()  # the step is done when its result is on the host
        return time.perf_counter() - t0, loss

    # A step that takes minutes (PyDyNet's transformer) needs no warm-up to be timed fairly;
    # past the time budget the worker stops after at least one timed step.
    spent = 0.0
    for _ in range(warmup):
        seconds, loss = step()
        spent += seconds
        if seconds > budget / 4:
            break
    times = []
    while len(times) < steps and (not times or spent < budget):
        seconds, loss = step()
        times.append(seconds)
        spent += seconds
    _, peak = _memory_mib()
    return {"framework": framework, "model": name, "seconds_per_step": statistics.median(times),
            "steps": len(times), "peak_rss_mib": peak, "import_rss_mib": import_rss,
            "dtype": np.dtype(fw.float_dtype).name, "loss": float(loss.item())}


def run_one(framework, name, steps, warmup, threads, budget):
    """One worker process; None when the framework is not installed."""
    figures, stderr = run_worker("train", [framework, "--model", name, "--steps", steps,
                                           "--warmup", warmup, "--threads", threads,
                                           "--budget", budget], threads)
    if figures is None:
        if f"No module named '{framework}'" in stderr:
            return None
        raise RuntimeError(f"train worker {framework}/{name} failed:\n{stderr[-3000:]}")
    return figures


def _ratio(a, b):
    return a / b if a and b else None


def _cell(value, width, digits):
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def report(results, threads, steps):
    """The table (seconds per step, ratios against torch and PyDyNet, peak memory); adds the
    ratios to ``results``."""
    lines = [f"seconds per training step (median of up to {steps} after warm-up), {threads} "
             "threads; pydyfast and torch in float32, PyDyNet in float64",
             f"{'model':<12}{'pydyfast':>10}{'torch':>10}{'PyDyNet':>10}{'/torch':>8}"
             f"{'target':>8}{'/PyDyNet':>10}{'RSS pdf':>9}{'torch':>7}{'PyDyNet':>8}"
             f"{'/torch':>8}  steps timed"]
    for name, row in results.items():
        runs = row["runs"]
        sec = {fw: r["seconds_per_step"] for fw, r in runs.items() if r}
        mem = {fw: r["peak_rss_mib"] for fw, r in runs.items() if r}
        row["ratio_pydyfast_torch"] = _ratio(sec.get("pydyfast"), sec.get("torch"))
        row["ratio_pydyfast_pydynet"] = _ratio(sec.get("pydyfast"), sec.get("pydynet"))
        row["memory_ratio_pydyfast_torch"] = _ratio(mem.get("pydyfast"), mem.get("torch"))
        timed = "/".join(str(runs[fw]["steps"]) if runs.get(fw) else "-" for fw in FRAMEWORKS)
        lines.append(
            f"{name:<12}" + "".join(_cell(sec.get(fw), 10, 4) for fw in FRAMEWORKS)
            + _cell(row["ratio_pydyfast_torch"], 8, 2) + f"{'<=' + str(TARGETS[name]):>8}"
            + _cell(row["ratio_pydyfast_pydynet"], 10, 3)
            + "".join(_cell(mem.get(fw), w, 0) for fw, w in zip(FRAMEWORKS, (9, 7, 8)))
            + _cell(row["memory_ratio_pydyfast_torch"], 8, 2) + f"  {timed}")
    lines.append(f"targets: pydyfast/torch time as listed, peak RSS pydyfast/torch <= "
                 f"{MEMORY_TARGET}; RSS in MiB is each process's peak, framework included")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m pydyfast.bench train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--framework", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument("--steps", type=int, default=10, help="timed steps (median is reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--budget", type=float, default=120.0, metavar="SECONDS",
                   help="per framework and model: stop timing after this long (at least one "
                        "timed step; the table says how many were timed)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.steps < 1 or args.threads < 1:
        p.error("--steps and --threads must be positive")
    if args.worker:
        print(json.dumps(_worker(args.worker, args.model[0], args.steps, args.warmup,
                                 args.threads, args.budget)))
        return 0
    results = {}
    for name in args.model:
        results[name] = {"runs": {fw: run_one(fw, name, args.steps, args.warmup, args.threads,
                                              args.budget) for fw in args.framework}}
    print(report(results, args.threads, args.steps))
    write_json(args.json, {"threads": args.threads, "steps": args.steps, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())

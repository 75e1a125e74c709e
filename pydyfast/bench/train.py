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
import beside it. ``--batch`` changes the batch of every model (256 above).

``--contend`` runs pydyfast and torch again, each worker beside one busy process
(``contend.py``), and compares the ratios; ``--breakdown`` adds per model one profiled worker
per framework that splits a step's time by category (``breakdown.py``).
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from . import contend
from .worker import run_worker, write_json

MODELS = ("mlp", "lenet", "transformer", "gru")
FRAMEWORKS = ("pydyfast", "torch", "pydynet")
CONTENDED = ("pydyfast", "torch")  # the frameworks of the contended run: the target's ratio
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


def _problem(fw, models, name, rng, batch):
    """The model, its forward inputs, its targets and its loss for one benchmark."""
    if name in ("mlp", "lenet"):
        model = (models.mlp if name == "mlp" else models.lenet)(fw)
        inputs = [rng.random((batch, 1, 28, 28))]
        return model, inputs, rng.integers(0, 10, batch), fw.nn.CrossEntropyLoss()
    if name == "transformer":
        model = models.transformer_classifier(fw, VOCAB, SEQ, dim=512, heads=4, expansion=3)
        if fw.name == "pydynet":  # PyDyNet's Embedding leaves its weight uninitialised
            model.embedding.reset_parameters()
        ids = rng.integers(1, VOCAB, (batch, SEQ))
        return (model, [ids, models.padding_mask(ids)], rng.integers(0, 2, batch),
                fw.nn.CrossEntropyLoss())
    model = models.gru_regressor(fw)
    return (model, [rng.standard_normal((batch, WINDOW, 1))],
            rng.standard_normal((batch, 1)), fw.nn.MSELoss())


def load_framework(name, threads):
    """The ``examples.frameworks.Framework`` of ``name`` with its thread pools set."""
    frameworks, _ = _examples()
    fw = frameworks.Framework(name)
    fw.set_num_threads(threads)
    return fw


def training_step(fw, name, batch=BATCH):
    """(optimizer, step) of one benchmark: ``step()`` runs forward, loss, ``zero_grad``,
    backward and the Adam update, and returns the loss once its value is on the host."""
    _, models = _examples()
    fw.manual_seed(0)
    model, inputs, target, criterion = _problem(fw, models, name, np.random.default_rng(0),
                                                batch)
    inputs = [fw.tensor(a) for a in inputs]
    target = fw.tensor(target)
    optimizer = fw.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        loss = criterion(model(*inputs), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()  # the step is done when its result is on the host
        return loss
    return optimizer, step


def _timed(step):
    t0 = time.perf_counter()
    loss = step()
    return time.perf_counter() - t0, loss


def _worker(framework_name, name, steps, warmup, threads, budget, batch):
    fw = load_framework(framework_name, threads)
    import_rss, _ = _memory_mib()
    _, step = training_step(fw, name, batch)
    # A step that takes minutes (PyDyNet's transformer) needs no warm-up to be timed fairly;
    # past the time budget the worker stops after at least one timed step.
    spent = 0.0
    for _ in range(warmup):
        seconds, loss = _timed(step)
        spent += seconds
        if seconds > budget / 4:
            break
    times = []
    while len(times) < steps and (not times or spent < budget):
        seconds, loss = _timed(step)
        times.append(seconds)
        spent += seconds
    _, peak = _memory_mib()
    return {"framework": framework_name, "model": name,
            "seconds_per_step": statistics.median(times), "steps": len(times),
            "peak_rss_mib": peak, "import_rss_mib": import_rss,
            "dtype": np.dtype(fw.float_dtype).name, "loss": float(loss.item())}


def run_one(framework, name, args, contended=False):
    """One worker process (beside a busy process when ``contended``); None when the framework
    is not installed."""
    with contend.maybe_busy(contended):
        figures, stderr = run_worker("train", [
            framework, "--model", name, "--steps", args.steps, "--warmup", args.warmup,
            "--threads", args.threads, "--budget", args.budget, "--batch", args.batch],
            args.threads)
    if figures is None:
        if f"No module named '{framework}'" in stderr:
            return None
        raise RuntimeError(f"train worker {framework}/{name} failed:\n{stderr[-3000:]}")
    return figures


def _ratio(a, b):
    return a / b if a and b else None


def _seconds(runs):
    """{framework: seconds per step} of the frameworks that ran."""
    return {fw: r["seconds_per_step"] for fw, r in runs.items() if r}


def _cell(value, width, digits):
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def report(results, threads, steps, load="quiet"):
    """The table (seconds per step, ratios against torch and PyDyNet, peak memory); adds the
    ratios to ``results``. load: how the machine was shared, for the title."""
    lines = [(f"seconds per training step (median of up to {steps} after warm-up), {threads} "
              f"threads, {load}; pydyfast and torch in float32, PyDyNet in float64"),
             (f"{'model':<12}{'pydyfast':>10}{'torch':>10}{'PyDyNet':>10}{'/torch':>8}"
              f"{'target':>8}{'/PyDyNet':>10}{'RSS pdf':>9}{'torch':>7}{'PyDyNet':>8}"
              f"{'/torch':>8}  steps timed")]
    for name, row in results.items():
        runs = row["runs"]
        sec = _seconds(runs)
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


def contention_report(results):
    """The quiet and contended pydyfast/torch ratios side by side, with each framework's
    slowdown under load; adds the rise of the ratio to ``results``."""
    rows = []
    for name, row in results.items():
        quiet, busy = _seconds(row["runs"]), _seconds(row["contended"]["runs"])
        ratios = [_ratio(t.get("pydyfast"), t.get("torch")) for t in (quiet, busy)]
        row["ratio_rise_under_contention"] = contend.difference(*ratios)
        slowdown = {fw: _ratio(busy.get(fw), quiet.get(fw)) for fw in CONTENDED}
        rows.append((name, *ratios, slowdown))
    return contend.table(rows, "model")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m pydyfast.bench train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--framework", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument("--steps", type=int, default=10, help="timed steps (median is reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=BATCH,
                   help=f"batch size of every model (default {BATCH}; smaller for a quick run)")
    p.add_argument("--budget", type=float, default=120.0, metavar="SECONDS",
                   help="per framework and model: stop timing after this long (at least one "
                        "timed step; the table says how many were timed)")
    p.add_argument("--contend", action="store_true",
                   help="run pydyfast and torch again beside one busy process and compare")
    p.add_argument("--breakdown", action="store_true",
                   help="also profile pydyfast's and torch's steps: ms per step by category")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.steps < 1 or args.threads < 1 or args.batch < 1:
        p.error("--steps, --threads and --batch must be positive")
    if args.worker:
        print(json.dumps(_worker(args.worker, args.model[0], args.steps, args.warmup,
                                 args.threads, args.budget, args.batch)))
        return 0
    if args.breakdown:
        from . import breakdown  # imports this module: loaded only when asked for
    results = {}
    for name in args.model:  # quiet and contended runs of one model close together in time
        results[name] = {"runs": {fw: run_one(fw, name, args) for fw in args.framework}}
        if args.contend:
            results[name]["contended"] = {"runs": {fw: run_one(fw, name, args, contended=True)
                                                   for fw in CONTENDED
                                                   if fw in args.framework}}
        if args.breakdown:
            results[name]["breakdown"] = breakdown.run(name, args)
    print(report(results, args.threads, args.steps))
    if args.contend:
        print()
        print(report({name: row["contended"] for name, row in results.items()}, args.threads,
                     args.steps, load="beside one busy process (pydyfast and torch only)"))
        print()
        print(contention_report(results))
    if args.breakdown:
        for name, row in results.items():
            print()
            print(breakdown.table(name, row["breakdown"]))
    write_json(args.json, {"threads": args.threads, "steps": args.steps, "batch": args.batch,
                           "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())

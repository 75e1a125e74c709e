"""Where a training step's time goes: the per-step breakdown of ``bench train --breakdown``.

For each model one pydyfast worker and one torch worker, each in its own process, build the
step of ``bench train`` and run: warm-up, ``--steps`` plain steps (their median time and their
minor page faults per step, from getrusage), then ``--steps`` profiled steps whose time is
split into these categories (milliseconds per step, self time: a call nested in another is
charged to its own category, not twice):

  gemm         matrix products
  kernels      compiled kernels by name: pydyfast._C functions; torch's fused native ops
               (convolution, pooling, softmax, norms, losses, embedding backward, RNN cells)
  elementwise  elementwise ops and reductions (NumPy in pydyfast's ops, aten in torch)
  copies       copies to contiguous memory, reshapes, transposes, concatenation, allocation
  optimizer    ``optimizer.step`` and ``zero_grad``, with everything they call
  engine       the autograd engine's own work during backward (traversal, gradient
               accumulation): pydyfast's ``Tensor.backward`` outside the ops' backward
               functions; torch's autograd::engine and node events outside their aten ops
  python       the remainder: modules, wrappers, graph recording, the interpreter

pydyfast: cProfile cannot see into the Cython engine and costs more than the small ops it
measures, so the worker wraps, in its own process only (the library is unchanged and pays
nothing elsewhere), the forward and backward of every ``Function`` subclass, every function of
``pydyfast._C``, numpy's matrix-product and copy functions, the contiguous copies ``dispatch``
makes for kernels, ``Tensor.backward`` and the optimizer. The wrappers cannot see ``a @ b`` or
ndarray methods (``.sum()``, ``.reshape()``): that work stays in the op that does it, and an
op's own time goes to its family's category (``FAMILY_CATEGORY``; elementwise by default).
The wrappers cost about a microsecond per call, so the profiled step is a little slower than
the plain one; the table shows both.

torch: ``torch.profiler`` over the profiled steps; each event's self time goes to the category
its name says (``torch_category``).

With ``--contend`` as well, both workers run a second time beside the busy process of
``contend.py`` ("pydyfast busy", "torch busy" columns): the categories that grow are where a
shared core hurts.
"""
import argparse
import functools
import json
import re
import resource
import statistics
import sys
import time
from collections import defaultdict

from . import contend, train
from .worker import run_worker

CATEGORIES = {"gemm": "GEMM (matrix products)", "kernels": "compiled kernels",
              "elementwise": "elementwise/reductions", "copies": "copies/reshapes",
              "optimizer": "optimizer", "engine": "autograd engine",
              "python": "Python and other (rest)"}
FRAMEWORKS = ("pydyfast", "torch")
TOP = {"kernels": 6}  # names listed under a category (by time); 3 unless given here

# The category of an op's own time, by its module in pydyfast/ops (attention's products are
# ``@``, conv's own work is the reshapes around its kernels and products).
FAMILY_CATEGORY = {"linalg": "gemm", "linear": "gemm", "einsum": "gemm", "attention": "gemm",
                   "shape": "copies", "index": "copies", "rearrange": "copies",
                   "passthrough": "copies", "padding": "copies", "gather": "copies",
                   "unfold": "copies", "embedding": "copies", "conv": "copies",
                   "conv3d": "copies"}
NUMPY_CATEGORY = {**dict.fromkeys(("matmul", "dot", "vdot", "inner", "outer", "einsum",
                                   "tensordot"), "gemm"),
                  **dict.fromkeys(("ascontiguousarray", "copy", "copyto", "concatenate", "stack",
                                   "pad", "repeat", "tile"), "copies")}
GEMM_KERNEL = re.compile(r"gemm|matmul|linear")  # compiled kernels that are matrix products

TORCH_GEMM = re.compile(r"aten::(mm|addmm|bmm|baddbmm|addbmm|matmul|linear|dot|vdot|mv|addmv"
                        r"|einsum|tensordot|_addmm_activation|mkldnn_linear\w*)$")
TORCH_KERNEL = re.compile(r"conv|pool|softmax|norm|nll_loss|cross_entropy|embedding_"
                          r"|dropout|gru|lstm|rnn|attention|fused|mkldnn")
TORCH_COPIES = re.compile(
    r"aten::(copy_|clone|contiguous|to|_to_copy|view|view_as|reshape|_reshape_alias|"
    r"_unsafe_view|t|transpose|permute|expand|expand_as|as_strided|unsqueeze|squeeze|flatten|"
    r"unflatten|select|slice|narrow|cat|stack|split|split_with_sizes|chunk|unbind|detach|"
    r"alias|lift_fresh|empty|empty_like|empty_strided|resize_|index_select|embedding|repeat|"
    r"pad|constant_pad_nd|zeros|zeros_like|ones_like|full|new_empty|new_empty_strided|"
    r"new_zeros|item|_local_scalar_dense|resolve_conj|resolve_neg|numpy_T|matrix_H|mT)$")


class SelfTimer:
    """Self time per (category, name) of the calls wrapped with ``wrap``.

    A stack of the wrapped calls in progress: each clock reading charges the time since the
    previous one to the call on top, so nested wrapped calls are not counted twice. A call
    wrapped with ``absorb=True`` keeps the calls nested in it as its own time (an optimizer's
    kernels are the optimizer's time; dispatch's copies are copies for the kernels).
    """

    def __init__(self):
        self.seconds = defaultdict(float)
        self._stack = []
        self._mark = 0.0
        self._absorbing = set()

    def _switch(self, now):
        if self._stack:
            self.seconds[self._stack[-1]] += now - self._mark
        self._mark = now

    def wrap(self, fn, category, name, absorb=False):
        key = (category, name)
        if absorb:
            self._absorbing.add(key)

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            stack = self._stack
            self._switch(time.perf_counter())
            stack.append(stack[-1] if stack and stack[-1] in self._absorbing else key)
            try:
                return fn(*args, **kwargs)
            finally:
                self._switch(time.perf_counter())
                stack.pop()
        return timed


def _function_classes(base):
    """Every subclass of ``base``, recursively."""
    found, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def instrument(timer, optimizer):
    """Wrap pydyfast's ops, kernels, engine entry and ``optimizer`` (see the module docstring)."""
    import numpy as np

    from pydyfast import Tensor, backend
    from pydyfast.autograd import Function
    for name, category in NUMPY_CATEGORY.items():
        setattr(np, name, timer.wrap(getattr(np, name), category, f"np.{name}"))
    if backend.native_module() is not None:
        for name in dir(backend._C):
            fn = getattr(backend._C, name)
            if type(fn).__name__ == "builtin_function_or_method" and not name.startswith("_"):
                category = "gemm" if GEMM_KERNEL.search(name) else "kernels"
                setattr(backend._C, name, timer.wrap(fn, category, f"_C.{name}"))
    for helper in ("_contiguous", "_contiguous_params"):  # dispatch's copies for the kernels
        if hasattr(backend, helper):
            setattr(backend, helper, timer.wrap(getattr(backend, helper), "copies",
                                                "contiguous copies for kernels", absorb=True))
    for cls in _function_classes(Function):
        family = cls.__module__.rsplit(".", 1)[-1]
        category = FAMILY_CATEGORY.get(family, "elementwise")
        for method in ("forward", "backward"):
            if method in vars(cls):
                fn = getattr(cls, method)
                setattr(cls, method,
                        staticmethod(timer.wrap(fn, category, f"{cls.__name__}.{method}")))
    Tensor.backward = timer.wrap(Tensor.backward, "engine", "Tensor.backward")
    kind = type(optimizer).__name__
    for method in ("step", "zero_grad"):
        setattr(optimizer, method, timer.wrap(getattr(optimizer, method), "optimizer",
                                              f"{kind}.{method}", absorb=True))


def torch_category(event):
    """(category, name) of one torch.profiler event's self time."""
    name, parent = event.name, event.cpu_parent
    while parent is not None:
        if parent.name.startswith("Optimizer."):
            return "optimizer", parent.name
        if parent.name.startswith("autograd::") and not name.startswith("aten::"):
            return "engine", "autograd nodes"
        parent = parent.cpu_parent
    if name.startswith("Optimizer."):
        return "optimizer", name
    if name.startswith("autograd::") or name.endswith(("Backward0", "Backward1")):
        return "engine", "autograd nodes"
    if not name.startswith("aten::"):
        return "python", name
    if TORCH_GEMM.match(name):
        return "gemm", name
    if TORCH_COPIES.match(name):
        return "copies", name
    if TORCH_KERNEL.search(name):
        return "kernels", name
    return "elementwise", name


def _plain_steps(step, steps):
    """(median seconds, minor page faults per step) of ``steps`` unprofiled steps."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return statistics.median(times), faults / steps


def _timed_steps(step, steps):
    """Total seconds of ``steps`` steps."""
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - t0


def _profile_pydyfast(optimizer, step, steps):
    timer = SelfTimer()
    instrument(timer, optimizer)
    step()  # the first call through the wrappers is not timed
    timer.seconds.clear()
    return _timed_steps(step, steps), dict(timer.seconds)


def _profile_torch(optimizer, step, steps):
    import torch
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        wall = _timed_steps(step, steps)
    seconds = defaultdict(float)
    for event in prof.events():
        seconds[torch_category(event)] += event.self_cpu_time_total * 1e-6
    return wall, dict(seconds)


def worker(framework, name, steps, warmup, threads, batch):
    """One framework's breakdown of one model: the figures ``table`` prints."""
    fw = train.load_framework(framework, threads)
    optimizer, step = train.training_step(fw, name, batch)
    for _ in range(warmup):
        step()
    plain, faults = _plain_steps(step, steps)
    profile = _profile_torch if framework == "torch" else _profile_pydyfast
    wall, seconds = profile(optimizer, step, steps)
    ms = defaultdict(float)
    items = defaultdict(dict)
    for (category, item), s in seconds.items():
        ms[category] += 1e3 * s / steps
        items[category][item] = items[category].get(item, 0.0) + 1e3 * s / steps
    profiled = 1e3 * wall / steps
    ms["python"] += profiled - sum(ms.values())  # what no wrapper or event covers
    return {"framework": framework, "model": name, "batch": batch, "threads": threads,
            "steps": steps, "step_ms": 1e3 * plain, "profiled_step_ms": profiled,
            "minor_faults_per_step": faults, "ms": dict(ms), "items": dict(items)}


def run(name, args):
    """The breakdown workers of one model: {column: figures or None if not installed}, the
    columns being the frameworks and, with ``--contend``, "<framework> busy": the same worker
    beside one busy process, to show which categories grow when a core is shared."""
    figures = {}
    for contended in (False, True) if args.contend else (False,):
        for framework in (fw for fw in FRAMEWORKS if fw in args.framework):
            with contend.maybe_busy(contended):
                result, stderr = run_worker("breakdown", [
                    framework, "--model", name, "--steps", args.steps, "--warmup", args.warmup,
                    "--threads", args.threads, "--batch", args.batch], args.threads)
            if result is None and f"No module named '{framework}'" not in stderr:
                raise RuntimeError(f"breakdown worker {framework}/{name} failed:\n"
                                   f"{stderr[-3000:]}")
            figures[framework + (" busy" if contended else "")] = result
    return figures


def _top(items, count):
    """"name ms, name ms" of the ``count`` largest items that show in one decimal."""
    ranked = sorted(items.items(), key=lambda kv: -kv[1])[:count]
    return ", ".join(f"{item} {ms:.1f}" for item, ms in ranked if ms >= 0.05)


def table(name, figures):
    """The printed breakdown of one model: ms per step, one column per framework (and per
    contended framework when measured), and under each category its largest items."""
    columns = [*FRAMEWORKS, *(c for c in (f"{fw} busy" for fw in FRAMEWORKS) if c in figures)]
    present = [c for c in columns if figures.get(c)]
    if not present:
        return f"{name}: no breakdown (neither pydyfast nor torch ran)"
    first = figures[present[0]]
    width = {c: max(10, len(c) + 2) for c in columns}

    def row(label, value, digits=1):
        cells = (f"{value(figures[c]):>{width[c]}.{digits}f}" if c in present
                 else f"{'-':>{width[c]}}" for c in columns)
        return f"{label:<32}" + "".join(cells)

    lines = [(f"{name}: ms per step, batch {first['batch']}, {first['threads']} threads, "
              f"{first['steps']} profiled steps"),
             " " * 32 + "".join(f"{c:>{width[c]}}" for c in columns),
             row("step, unprofiled (median)", lambda f: f["step_ms"]),
             row("step, profiled (mean)", lambda f: f["profiled_step_ms"])]
    for category, label in CATEGORIES.items():
        lines.append(row(label, lambda f, c=category: f["ms"].get(c, 0.0)))
        for c in present:
            top = _top(figures[c]["items"].get(category, {}), TOP.get(category, 3))
            if top and category != "python":
                lines.append(f"    {c}: {top}")
    lines.append(row("minor page faults per step", lambda f: f["minor_faults_per_step"], 0))
    return "\n".join(lines)


def main(argv=None):
    """The worker entry point (``bench train --breakdown`` runs it once per framework)."""
    p = argparse.ArgumentParser(prog="python -m pydyfast.bench.breakdown")
    p.add_argument("--worker", choices=FRAMEWORKS, required=True)
    p.add_argument("--model", choices=train.MODELS, required=True)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=train.BATCH)
    args = p.parse_args(argv)
    print(json.dumps(worker(args.worker, args.model, args.steps, args.warmup, args.threads,
                            args.batch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

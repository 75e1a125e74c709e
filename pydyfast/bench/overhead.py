"""``python -m pydyfast.bench overhead``: the cost of one small op with autograd.

A chain of elementwise ops (mul, add, tanh, sub, sigmoid, mul by a scalar) on 16-element float32
tensors, forward then backward, divided by the number of ops: this is the per-op price of the
Tensor/autograd layer, since the arithmetic itself is tiny. Plain numpy (forward only, no autograd)
and PyTorch (same chain, with autograd) run beside it, each in its own process.
"""
import argparse
import json
import statistics
import sys
import time

from .worker import run_worker, write_json

CHAIN = 60  # ops per chain; 10 repetitions of the 6-op pattern below


def _chain(x, w, tanh, sigmoid):
    for _ in range(CHAIN // 6):
        x = x * w
        x = x + w
        x = tanh(x)
        x = x - w
        x = sigmoid(x)
        x = x * 1.5
    return x


def _measure(step, repeat, inner):
    for _ in range(inner):  # warm-up
        step()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            step()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def _worker(framework, repeat, inner):
    import numpy as np
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(16).astype(np.float32)
    w0 = rng.standard_normal(16).astype(np.float32)
    if framework == "pydyfast":
        import pydyfast as pdf
        x = pdf.Tensor(x0, requires_grad=True)
        w = pdf.Tensor(w0, requires_grad=True)

        def step():
            _chain(x, w, pdf.tanh, pdf.sigmoid).sum().backward()
            x.grad = w.grad = None
    elif framework == "torch":
        import torch
        torch.set_num_threads(1)
        x = torch.tensor(x0, requires_grad=True)
        w = torch.tensor(w0, requires_grad=True)

        def step():
            _chain(x, w, torch.tanh, torch.sigmoid).sum().backward()
            x.grad = w.grad = None
    else:
        def sigmoid(a):
            return 0.5 * (np.tanh(0.5 * a) + 1)

        def step():
            _chain(x0, w0, np.tanh, sigmoid).sum()
    seconds = _measure(step, repeat, inner)
    return {"framework": framework, "us_per_op": seconds / CHAIN * 1e6}


def run(frameworks, repeat, inner):
    results = {}
    for fw in frameworks:
        figures, stderr = run_worker("overhead", [fw, "--repeat", repeat, "--inner", inner])
        if figures is None:
            if "No module named" in stderr:
                continue  # framework not installed
            raise RuntimeError(f"overhead worker {fw} failed:\n{stderr}")
        results[fw] = figures["us_per_op"]
    return results


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m pydyfast.bench overhead", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=15, help="timed rounds (median is reported)")
    p.add_argument("--inner", type=int, default=50, help="chains per round")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.repeat, args.inner)))
        return 0
    res = run(["pydyfast", "numpy", "torch"], args.repeat, args.inner)
    print(f"per-op cost, forward + backward, 16-element float32 tensors, chain of {CHAIN} ops "
          f"(median of {args.repeat} x {args.inner})")
    print(f"{'framework':<12}{'us/op':>10}")
    for fw, us in res.items():
        note = "  (forward only, no autograd)" if fw == "numpy" else ""
        print(f"{fw:<12}{us:>10.2f}{note}")
    if "torch" in res:
        res["ratio_pydyfast_torch"] = res["pydyfast"] / res["torch"]
        print(f"pydyfast/torch = {res['ratio_pydyfast_torch']:.2f} (target <= 2.0)")
    write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())

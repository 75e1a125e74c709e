"""Seconds per LeNet-5 training step, pydyfast's functional conv/pool ops beside PyTorch.

``python -m pydyfast.bench.lenet_step [--steps N] [--threads N]``. Batch 256 of 1x28x28 inputs,
conv 6@5x5 pad 2 -> relu -> maxpool 2 -> conv 16@5x5 -> relu -> maxpool 2 -> fc 120 -> relu ->
fc 84 -> relu -> fc 10, cross-entropy, plain SGD; forward, backward and update per step, float32.
Each framework runs in its own process with its thread pools limited to --threads.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np

from .worker import run_worker

SHAPES = [("conv1.weight", (6, 1, 5, 5)), ("conv1.bias", (6,)), ("conv2.weight", (16, 6, 5, 5)),
          ("conv2.bias", (16,)), ("fc1.weight", (120, 400)), ("fc1.bias", (120,)),
          ("fc2.weight", (84, 120)), ("fc2.bias", (84,)), ("fc3.weight", (10, 84)),
          ("fc3.bias", (10,))]


def _data(batch=256):
    rng = np.random.default_rng(0)
    params = {name: (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]) or 1))
              .astype(np.float32) for name, shape in SHAPES}
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, batch)
    return params, x, labels


def _forward(F, p, x, relu, pool, linear):
    h = pool(relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"], padding=2)), 2)
    h = pool(relu(F.conv2d(h, p["conv2.weight"], p["conv2.bias"])), 2)
    h = h.reshape(h.shape[0], -1)
    h = relu(linear(h, p["fc1.weight"], p["fc1.bias"]))
    h = relu(linear(h, p["fc2.weight"], p["fc2.bias"]))
    return linear(h, p["fc3.weight"], p["fc3.bias"])


def pydyfast_step():
    import pydyfast as pdf
    import pydyfast.functional as F
    arrays, x, labels = _data()
    params = {k: pdf.Tensor(v, requires_grad=True) for k, v in arrays.items()}
    x, onehot = pdf.Tensor(x), pdf.Tensor(np.eye(10, dtype=np.float32)[labels])

    def step():
        z = _forward(F, params, x, F.relu, F.max_pool2d, lambda h, w, b: h @ w.T + b)
        loss = (F.logsumexp(z, axis=1) - (z * onehot).sum(axis=1)).mean()
        loss.backward()
        with pdf.no_grad():
            for t in params.values():
                t.data -= 0.01 * t.grad.data
                t.grad = None
    return step


def torch_step():
    import torch
    import torch.nn.functional as F
    arrays, x, labels = _data()
    params = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    x, labels = torch.tensor(x), torch.tensor(labels)

    def step():
        z = _forward(F, params, x, F.relu, F.max_pool2d, F.linear)
        F.cross_entropy(z, labels).backward()
        with torch.no_grad():
            for t in params.values():
                t -= 0.01 * t.grad
                t.grad = None
    return step


def _measure(framework, steps, threads):
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
        step = torch_step()
    else:
        import pydyfast
        pydyfast.backend.set_num_threads(threads)
        step = pydyfast_step()
    for _ in range(2):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pydyfast.bench.lenet_step")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", choices=("pydyfast", "torch"))
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_measure(args.worker, args.steps, args.threads)))
        return 0
    result = {}
    for fw in ("pydyfast", "torch"):
        result[fw], stderr = run_worker("lenet_step", [fw, "--steps", args.steps, "--threads",
                                                      args.threads], args.threads)
        if result[fw] is None:
            raise RuntimeError(f"lenet_step worker {fw} failed:\n{stderr[-3000:]}")
    print(f"LeNet-5 training step, batch 256, float32, {args.threads} threads, median of "
          f"{args.steps}: pydyfast {result['pydyfast']:.4f} s, torch {result['torch']:.4f} s, "
          f"ratio {result['pydyfast'] / result['torch']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

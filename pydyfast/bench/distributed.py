"""``python -m pydyfast.bench distributed``: data-parallel training costs with 1 and 2 processes.

For each process count it runs itself under ``mpiexec`` and measures, on rank 0:
  - all-reduce bandwidth: seconds and bytes/s (buffer size / time) for float32 buffers of
    1 to 256 MB (the MPI backend, through its communication thread);
  - a training step (forward, backward, Adam) of the MNIST MLP (784-1024-1024-10) under
    DistributedDataParallel (``--bucket-cap-mb``, default 4), global batch 128 split among the
    processes;
  - the overlap: backward alone (no DDP), backward under DDP (buckets all-reduced while
    backward runs), and backward followed by one blocking all-reduce of every gradient. The
    overlap is the share of that blocking communication time that DDP hid inside backward.
On a 2-core machine 2 processes cannot run faster than 1; the figures to watch are the
communication cost per step and the overlap.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from .worker import write_json


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def worker(sizes_mb, steps, bucket_cap_mb):
    import pydyfast as pdf
    import pydyfast.distributed as dist
    from examples import models
    from examples.frameworks import Framework
    from pydyfast.nn.parallel import DistributedDataParallel
    dist.init_process_group("mpi")
    world, figures = dist.get_world_size(), {"allreduce": {}}
    for mb in sizes_mb:
        buf = np.ones(int(mb * 2 ** 20) // 4, np.float32)
        dist.all_reduce(buf)  # warm-up (and page faults)
        seconds = _median_time(lambda buf=buf: dist.all_reduce(buf), 3 if mb < 64 else 2)
        figures["allreduce"][str(mb)] = {"seconds": seconds, "bytes_per_s": buf.nbytes / seconds}
    fw = Framework("pydyfast", "cpu")
    rng = np.random.default_rng(0)
    local = 128 // world
    x = pdf.tensor(rng.standard_normal((local, 784)).astype(np.float32))
    y = pdf.tensor(rng.integers(0, 10, local))
    criterion = pdf.nn.CrossEntropyLoss()

    def step(model, opt, sync_after):
        """One training step; returns (step seconds, backward seconds)."""
        start = time.perf_counter()
        loss = criterion(model(x), y)
        opt.zero_grad()
        b0 = time.perf_counter()
        loss.backward()
        if sync_after:  # every gradient in one blocking all-reduce after backward
            flat = np.concatenate([p.grad.data.ravel() for p in model.parameters()])
            dist.all_reduce(flat, op="avg")
        b1 = time.perf_counter()
        opt.step()
        return time.perf_counter() - start, b1 - b0

    variants = {}
    for name, wrap, sync_after in (("plain", False, False), ("ddp", True, False),
                                   ("then_allreduce", False, True)):
        fw.manual_seed(0)
        model = models.mlp(fw)
        if wrap:
            model = DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)
        variants[name] = (model, pdf.optim.Adam(model.parameters(), lr=1e-3), sync_after, [])
    for i in range(steps + 2):  # interleaved, so the machine's load drifts over all alike
        for model, opt, sync_after, times in variants.values():
            t = step(model, opt, sync_after)
            if i >= 2:
                times.append(t)
    for name, (_, _, _, times) in variants.items():
        step_s, backward_s = np.median(np.array(times), axis=0)
        figures[f"step_{name}"], figures[f"backward_{name}"] = float(step_s), float(backward_s)
    if dist.get_rank() == 0:
        sys.stdout.write(json.dumps(figures) + "\n")
    dist.destroy_process_group()


def run(nproc, sizes_mb, steps, bucket_cap_mb):
    from ..distributed.run import find_mpiexec
    cmd = [find_mpiexec(), "-n", str(nproc), sys.executable, "-m", "pydyfast.bench.distributed",
           "--worker", "--sizes-mb", ",".join(map(str, sizes_mb)), "--steps", str(steps),
           "--bucket-cap-mb", str(bucket_cap_mb)]
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"} if nproc > 1 else {}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **env),
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"pydyfast.bench distributed: {nproc} processes failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(results, sizes_mb):
    lines = ["all-reduce of float32 buffers (MPI backend), median:",
             f"{'MB':>6} " + " ".join(f"{f'{n} proc s':>11} {f'{n} proc GB/s':>12}"
                                      for n in results)]
    for mb in sizes_mb:
        cells = [(r["allreduce"][str(mb)]["seconds"], r["allreduce"][str(mb)]["bytes_per_s"])
                 for r in results.values()]
        lines.append(f"{mb:>6} " + " ".join(f"{s:>11.4f} {b / 1e9:>12.2f}" for s, b in cells))
    lines.append("\nMNIST MLP step (global batch 128), median ms:")
    lines.append(f"{'procs':>5} {'step':>8} {'step DDP':>9} {'bwd':>8} {'bwd DDP':>8} "
                 f"{'bwd+AR':>8} {'comm/step':>10} {'overlap':>8}")
    for n, r in results.items():
        comm = r["backward_then_allreduce"] - r["backward_plain"]
        hidden = r["backward_then_allreduce"] - r["backward_ddp"]
        overlap = f"{max(0.0, hidden / comm):.0%}" if n > 1 and comm > 0 else "-"
        lines.append(f"{n:>5} {1e3 * r['step_plain']:>8.1f} {1e3 * r['step_ddp']:>9.1f} "
                     f"{1e3 * r['backward_plain']:>8.1f} {1e3 * r['backward_ddp']:>8.1f} "
                     f"{1e3 * r['backward_then_allreduce']:>8.1f} "
                     f"{1e3 * (r['step_ddp'] - r['step_plain']):>10.1f} {overlap:>8}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m pydyfast.bench distributed",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--nproc", default="1,2", help="process counts, comma-separated")
    p.add_argument("--sizes-mb", default="1,4,16,64,256", help="all-reduce sizes in MB")
    p.add_argument("--steps", type=int, default=10, help="timed training steps")
    p.add_argument("--bucket-cap-mb", type=float, default=4.0,
                   help="DDP bucket size (default 4: the MLP's three layers in three buckets, "
                        "so the overlap can show; DDP's own default, 25, makes two)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    sizes = [float(s) if "." in s else int(s) for s in args.sizes_mb.split(",")]
    if args.worker:
        return worker(sizes, args.steps, args.bucket_cap_mb)
    results = {int(n): run(int(n), sizes, args.steps, args.bucket_cap_mb)
               for n in args.nproc.split(",")}
    sys.stdout.write(report(results, sizes) + "\n")
    write_json(args.json, {str(n): r for n, r in results.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())

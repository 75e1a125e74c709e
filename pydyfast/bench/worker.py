"""Running one framework of a benchmark in its own process.

Two frameworks' thread pools in one process distort both (numpy's OpenBLAS and torch's OpenMP
threads were seen to slow torch by an order of magnitude on 2 cores), so every benchmark command
re-runs itself as ``python -m pydyfast.bench.<module> --worker ...`` per framework; the worker
prints its figures as one JSON line.
"""
import json
import os
import subprocess
import sys

from .. import process


def run_worker(module, worker_args, threads=None, env=None):
    """Run the worker of ``pydyfast.bench.<module>``; returns (figures or None, stderr).

    worker_args: the arguments after ``--worker`` (the framework first). threads: when given,
    OpenMP, OpenBLAS and MKL are limited to it. env: extra environment variables.
    """
    # without the defaults importing pydyfast set in this process: torch's workers get torch's
    # own (pydyfast's workers set theirs again when they import it)
    full_env = {k: v for k, v in os.environ.items() if k not in process.set_by_pydyfast}
    full_env.update(env or {})
    if threads:
        n = str(threads)
        full_env.update(OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
    cmd = [sys.executable, "-m", f"pydyfast.bench.{module}", "--worker",
           *[str(a) for a in worker_args]]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env)
    if proc.returncode != 0:
        return None, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def write_json(path, figures):
    """``--json PATH`` of every benchmark command."""
    if path:
        with open(path, "w") as f:
            json.dump(figures, f, indent=2)

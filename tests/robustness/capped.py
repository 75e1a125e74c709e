"""Run Python code in a child process with its address space capped (``resource.setrlimit``),
so that an unbounded allocation fails that child with MemoryError instead of the machine, and a
crash (a signal) shows up as a negative return code instead of killing pytest."""
import os
import resource
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MEMORY_CAP = 1536 * 2**20  # importing numpy, pydyfast and torch-free llama needs ~400 MiB


def run_capped(code, *args, memory=MEMORY_CAP, timeout=120):
    """``python -c code *args`` under the cap; returns the CompletedProcess (text output)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], check=False,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=limit,
                          env=env, cwd=ROOT)


def assert_no_signal(proc):
    """A child killed by a signal (segfault, SIGFPE, the OOM killer) has a negative code."""
    assert proc.returncode >= 0, (f"child died of signal {-proc.returncode}\nstdout:\n"
                                  f"{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")
    assert proc.returncode == 0, f"child failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"

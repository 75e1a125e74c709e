"""Run a worker script under ``mpiexec -n N`` from pytest and collect what each rank reported.

Workers write one JSON file per rank: {case name: "ok" or an error message}. The launch has a
hard timeout, so a hang fails the test instead of stalling CI.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def mpiexec():
    """mpiexec of the test extra (pip's mpich puts it next to the interpreter)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.fail("tests/distributed need mpi4py and an MPI (pip install mpi4py mpich, in the "
                    "test extra)")
    found = Path(sys.executable).with_name("mpiexec")
    found = str(found) if found.exists() else shutil.which("mpiexec")
    if not found:
        pytest.fail("tests/distributed need mpiexec (pip install mpich, in the test extra)")
    return found


def run_mpi(n, script, *args, timeout=90, env=None):
    """``mpiexec -n n python script args``; returns the CompletedProcess (never hangs)."""
    full_env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]), **(env or {}))
    cmd = [mpiexec(), "-n", str(n), sys.executable, str(HERE / script), *map(str, args)]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                              cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(cmd)} did not finish within {timeout} s:\n{exc.stdout}\n"
                    f"{exc.stderr}")


def run_cases(n, script, tmp_path, timeout=90):
    """Launch the worker and return {case: [result of rank 0, rank 1, ...]}."""
    proc = run_mpi(n, script, tmp_path, timeout=timeout)
    assert proc.returncode == 0, f"{script} on {n} ranks failed:\n{proc.stdout}\n{proc.stderr}"
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(n)]
    return {case: [rep.get(case, "missing") for rep in reports] for case in reports[0]}


def check(results, case):
    """Assert that every rank reported ``ok`` for ``case``."""
    assert case in results, f"the worker did not run {case}"
    bad = [f"rank {r}: {msg}" for r, msg in enumerate(results[case]) if msg != "ok"]
    assert not bad, f"{case}:\n" + "\n".join(bad)

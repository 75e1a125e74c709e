"""Shared fixtures: both dtypes, both CPU kernel paths, tolerances, seeds.

PyTorch, the oracle, is not imported here: the tests that compare with it import it through
tests/oracle.py (``pytest.importorskip``), so without it they skip, saying why, and the rest run.
"""
import os
import sys

import numpy as np
import pytest

import pydyfast
from pydyfast import backend


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


@pytest.fixture(params=["native", "numpy"])
def kernels(request):
    """Run the test once on the compiled kernels and once on the NumPy references."""
    if request.param == "native" and not backend.native_active() and backend.get_kernels() != "numpy":
        pytest.fail("compiled kernels are not loaded: " + str(backend.info()["_C_error"]))
    previous = backend.get_kernels()
    backend.set_kernels(request.param)
    yield request.param
    backend.set_kernels(previous)


def tolerances(dtype):
    """rtol/atol for comparing with torch: float32 sums differ in the last bits."""
    return dict(rtol=1e-4, atol=1e-5) if np.dtype(dtype) == np.float32 else dict(rtol=1e-9, atol=1e-10)


@pytest.fixture
def tol(dtype):
    return tolerances(dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session", autouse=True)
def _torch_single_thread():
    """Tests compare values, not speed: one torch thread avoids oversubscribing the cores.
    Collection has imported torch by now if any collected test uses it."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    pydyfast.manual_seed(0)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(0)


LLAMA_DATA = os.environ.get("PYDYFAST_LLAMA_DATA")


def pytest_terminal_summary(terminalreporter):
    """One line saying what was skipped and why, grouped by reason (without -rs too)."""
    reasons = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.write_line("skipped: " + "; ".join(
            f"{n} ({reason})" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])))

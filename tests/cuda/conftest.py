"""Fixtures of the GPU tests: ``cp`` (CuPy, or a skip with the reason) and ``close``."""
import numpy as np
import pytest

import pydyfast

REASON = "needs a CUDA GPU and CuPy (pydyfast.cuda.is_available() is False on this machine)"


@pytest.fixture
def cp():
    """The cupy module; skips the test where no GPU is usable."""
    if not pydyfast.cuda.is_available():
        pytest.skip(REASON)
    import cupy
    return cupy


def gpu_tolerance(dtype):
    """Kernels sum in another order than torch: float32 differs in the last bits."""
    if np.dtype(dtype) == np.float32:
        return {"rtol": 2e-5, "atol": 2e-6}
    return {"rtol": 1e-10, "atol": 1e-12}


@pytest.fixture
def close():
    """``close(actual, expected, dtype, what)``: cupy/numpy/torch values compared on the host."""
    def check(actual, expected, dtype, what=""):
        def host(a):
            if hasattr(a, "detach"):
                return a.detach().cpu().numpy()
            return a.get() if hasattr(a, "get") else np.asarray(a)
        np.testing.assert_allclose(host(actual), host(expected), err_msg=what,
                                   **gpu_tolerance(dtype))
    return check

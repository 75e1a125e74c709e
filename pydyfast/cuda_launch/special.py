"""Launchers for kernels/special.cu, mirroring csrc/special.cpp: elementwise special functions
and the exact gelu."""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel
from .checks import require_shape

FAMILY = "special"


def _elementwise(launch, *arrays):
    """Runs ``launch(dtype)``, a kernel of this file, over the arrays (x first, all of x's
    shape) into a new array."""
    import cupy as cp
    x = arrays[0]
    y = cp.empty_like(x)
    if x.size:
        launch(x.dtype)(grid_1d(x.size), (BLOCK,), (*arrays, y, np.int64(x.size)))
    return y


def erf_fwd(x):
    """y = erf(x) elementwise; any shape."""
    return _elementwise(lambda dtype: kernel(FAMILY, "erf_fwd", dtype), x)


def erf_bwd(x, gy):
    """gx = gy * 2/sqrt(pi) * exp(-x^2); gy of x's shape."""
    require_shape("erf_bwd", "gradient", gy, x.shape)
    return _elementwise(lambda dtype: kernel(FAMILY, "erf_bwd", dtype), x, gy)


def gelu_fwd(x):
    """y = x * Phi(x) (the exact gelu) elementwise; any shape."""
    return _elementwise(lambda dtype: kernel(FAMILY, "gelu_fwd", dtype), x)


def gelu_bwd(x, gy):
    """gx = gy * (Phi(x) + x * phi(x)); gy of x's shape."""
    require_shape("gelu_bwd", "gradient", gy, x.shape)
    return _elementwise(lambda dtype: kernel(FAMILY, "gelu_bwd", dtype), x, gy)

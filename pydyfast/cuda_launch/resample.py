"""Launchers for kernels/resample.cu, mirroring pydyfast._C's resample_fwd/bwd
(csrc/resample.cpp): one-axis resampling of x (outer, n, inner) with K weighted taps."""
import numpy as np

from .. import cuda_kernels
from ..cuda_kernels import BLOCK, grid_1d

FAMILY = "resample"


def _launch(kernel, src, out, index, weight, n):
    """Run ``kernel`` from src to out; one thread per (outer, m, inner) element, n the length
    of the input axis."""
    import cupy as cp
    outer, inner = out.shape[0], out.shape[2]
    taps, m = index.shape
    if outer * m * inner:
        index = cp.ascontiguousarray(index, dtype=cp.int64)
        weight = cp.ascontiguousarray(weight, dtype=src.dtype)
        kernel(
            grid_1d(outer * m * inner), (BLOCK,),
            (src, index, weight, out) + tuple(np.int64(v) for v in (outer, n, inner, m, taps)))
    return out


def resample_fwd(x, index, weight):
    """x (outer, n, inner), index int64 (K, m), weight (K, m) -> y (outer, m, inner)."""
    import cupy as cp
    y = cp.empty((x.shape[0], index.shape[1], x.shape[2]), dtype=x.dtype)
    kernel = cuda_kernels.kernel(FAMILY, "resample_fwd", x.dtype)
    return _launch(kernel, x, y, index, weight, x.shape[1])


def resample_bwd(gy, index, weight, size):
    """gy (outer, m, inner) -> gx (outer, size, inner): the adjoint of resample_fwd."""
    import cupy as cp
    gx = cp.zeros((gy.shape[0], size, gy.shape[2]), dtype=gy.dtype)
    kernel = cuda_kernels.kernel(FAMILY, "resample_bwd", gy.dtype)
    return _launch(kernel, gy, gx, index, weight, size)

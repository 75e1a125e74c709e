"""Launchers for kernels/resample.cu, mirroring pydyfast._C's resample_fwd/bwd
(csrc/resample.cpp): one-axis resampling of x (outer, n, inner) with K weighted taps."""
import numpy as np

from .. import cuda_kernels
from ..cuda_kernels import BLOCK, grid_1d

FAMILY = "resample"


def _taps(index, weight, dtype):
    import cupy as cp
    return (cp.ascontiguousarray(index, dtype=cp.int64),
            cp.ascontiguousarray(weight, dtype=dtype))


def resample_fwd(x, index, weight):
    """x (outer, n, inner), index int64 (K, m), weight (K, m) -> y (outer, m, inner)."""
    import cupy as cp
    outer, n, inner = x.shape
    taps, m = index.shape
    y = cp.empty((outer, m, inner), dtype=x.dtype)
    if y.size:
        index, weight = _taps(index, weight, x.dtype)
        cuda_kernels.kernel(FAMILY, "resample_fwd", x.dtype)(
            grid_1d(y.size), (BLOCK,),
            (x, index, weight, y) + tuple(np.int64(v) for v in (outer, n, inner, m, taps)))
    return y


def resample_bwd(gy, index, weight, size):
    """gy (outer, m, inner) -> gx (outer, size, inner): the adjoint of resample_fwd."""
    import cupy as cp
    outer, m, inner = gy.shape
    taps = index.shape[0]
    gx = cp.zeros((outer, size, inner), dtype=gy.dtype)
    if gy.size:
        index, weight = _taps(index, weight, gy.dtype)
        cuda_kernels.kernel(FAMILY, "resample_bwd", gy.dtype)(
            grid_1d(gy.size), (BLOCK,),
            (gy, index, weight, gx) + tuple(np.int64(v) for v in (outer, size, inner, m, taps)))
    return gx

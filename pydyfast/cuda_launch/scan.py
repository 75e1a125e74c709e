"""Launchers for kernels/scan.cu, mirroring csrc/scan.cpp: scans over the middle axis of
C-contiguous (outer, n, inner) arrays, one thread per line."""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel

FAMILY = "scan"


def _launch(fn, x, arrays, *flags):
    """Run ``fn`` (a kernel of this family) over the lines of x's (outer, n, inner) shape."""
    outer, n, inner = x.shape
    if outer * inner and n:
        fn(grid_1d(outer * inner), (BLOCK,), (*arrays, np.int64(outer), np.int64(n),
                                              np.int64(inner), *[np.int32(f) for f in flags]))


def cumsum_fwd(x, reverse):
    """Inclusive running sum over n, or from the end when ``reverse`` (cumsum's gradient)."""
    import cupy as cp
    y = cp.empty_like(x)
    _launch(kernel(FAMILY, "cumsum_fwd", x.dtype), x, (x, y), reverse)
    return y


def cumprod_fwd(x):
    import cupy as cp
    y = cp.empty_like(x)
    _launch(kernel(FAMILY, "cumprod_fwd", x.dtype), x, (x, y))
    return y


def cumprod_bwd(x, gy):
    """The gradient of cumprod, exact where x has zeros."""
    import cupy as cp
    gx = cp.empty_like(x)
    gy = cp.ascontiguousarray(gy, dtype=x.dtype)
    _launch(kernel(FAMILY, "cumprod_bwd", x.dtype), x, (x, gy, gx))
    return gx


def cumextreme_fwd(x, largest):
    """(running max or min, int64 index where it was reached)."""
    import cupy as cp
    y = cp.empty_like(x)
    idx = cp.empty(x.shape, dtype=cp.int64)
    _launch(kernel(FAMILY, "cumextreme_fwd", x.dtype), x, (x, y, idx), largest)
    return y, idx


def cumextreme_bwd(gy, idx):
    """gx[idx_k] += gy_k along each line."""
    import cupy as cp
    gx = cp.zeros_like(gy)
    idx = cp.ascontiguousarray(idx, dtype=cp.int64)
    _launch(kernel(FAMILY, "cumextreme_bwd", gy.dtype), gy, (gy, idx, gx))
    return gx


def logcumsumexp_fwd(x):
    import cupy as cp
    y = cp.empty_like(x)
    _launch(kernel(FAMILY, "logcumsumexp_fwd", x.dtype), x, (x, y))
    return y


def logcumsumexp_bwd(x, y, gy):
    import cupy as cp
    gx = cp.empty_like(x)
    gy = cp.ascontiguousarray(gy, dtype=x.dtype)
    _launch(kernel(FAMILY, "logcumsumexp_bwd", x.dtype), x, (x, y, gy, gx))
    return gx

"""Launchers for kernels/gather.cu, mirroring csrc/gather.cpp: gather, scatter_add and
index_add over the middle axis of C-contiguous (outer, n, inner) arrays."""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel, scalar

FAMILY = "gather"


def _indices(idx):
    import cupy as cp
    return cp.ascontiguousarray(idx, dtype=cp.int64)


def gather_fwd(x, idx):
    """y[o, j, i] = x[o, idx[o, j, i], i]; y has the index's shape."""
    import cupy as cp
    outer, n, inner = x.shape
    m = idx.shape[1]
    y = cp.empty(idx.shape, dtype=x.dtype)
    if y.size:
        kernel(FAMILY, "gather_fwd", x.dtype)(grid_1d(y.size), (BLOCK,),
                                              (x, _indices(idx), y, np.int64(outer), np.int64(n),
                                               np.int64(m), np.int64(inner)))
    return y


def scatter_add_fwd(base, idx, src):
    """base with src (the index's shape) added at idx along the middle axis."""
    out = base.copy()
    outer, n, inner = base.shape
    m = idx.shape[1]
    if src.size:
        kernel(FAMILY, "scatter_add_fwd", base.dtype)(
            grid_1d(src.size), (BLOCK,),
            (_indices(idx), src, out, np.int64(outer), np.int64(n), np.int64(m),
             np.int64(inner)))
    return out


def index_add_fwd(base, idx, src, alpha):
    """base with alpha * src[:, j] added to slice idx[j] of the middle axis."""
    out = base.copy()
    outer, n, inner = base.shape
    m = idx.shape[0]
    if src.size:
        kernel(FAMILY, "index_add_fwd", base.dtype)(
            grid_1d(src.size), (BLOCK,),
            (_indices(idx), src, out, np.int64(outer), np.int64(n), np.int64(m), np.int64(inner),
             scalar(base.dtype, alpha)))
    return out

"""Launchers for kernels/gather.cu, mirroring csrc/gather.cpp: gather, scatter_add and
index_add over the middle axis of C-contiguous (outer, n, inner) arrays."""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel, scalar
from .checks import require_shape

FAMILY = "gather"


def _indices(idx):
    import cupy as cp
    return cp.ascontiguousarray(idx, dtype=cp.int64)


def _check_index(op, base, idx):
    """idx (outer, m, inner) for base (outer, n, inner): the kernel walks idx's lines in base."""
    if idx.ndim != 3:
        raise ValueError(f"{op}: expected an index (outer, m, inner), got shape {idx.shape}")
    require_shape(op, "index", idx, (base.shape[0], idx.shape[1], base.shape[2]))


def gather_fwd(x, idx):
    """y[o, j, i] = x[o, idx[o, j, i], i]; y has the index's shape."""
    _check_index("gather", x, idx)
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
    _check_index("scatter_add", base, idx)
    require_shape("scatter_add", "src", src, idx.shape)
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
    if idx.ndim != 1:
        raise ValueError(f"index_add: expected a 1-d index, got shape {idx.shape}")
    require_shape("index_add", "src", src, (base.shape[0], idx.shape[0], base.shape[2]))
    out = base.copy()
    outer, n, inner = base.shape
    m = idx.shape[0]
    if src.size:
        kernel(FAMILY, "index_add_fwd", base.dtype)(
            grid_1d(src.size), (BLOCK,),
            (_indices(idx), src, out, np.int64(outer), np.int64(n), np.int64(m), np.int64(inner),
             scalar(base.dtype, alpha)))
    return out


def gather_bwd(gy, idx, n):
    """zeros (outer, n, inner) with gy (the index's shape) added at idx along the middle axis."""
    import cupy as cp
    _check_index("gather_bwd", gy, idx)
    require_shape("gather_bwd", "gradient", gy, idx.shape)
    outer, m, inner = idx.shape
    out = cp.zeros((outer, n, inner), dtype=gy.dtype)
    if gy.size:
        kernel(FAMILY, "scatter_add_fwd", gy.dtype)(
            grid_1d(gy.size), (BLOCK,),
            (_indices(idx), gy, out, np.int64(outer), np.int64(n), np.int64(m), np.int64(inner)))
    return out


def index_select_fwd(x, idx):
    """y[:, j] = x[:, idx[j]] along the middle axis (cupy's take: a plain copy)."""
    import cupy as cp
    if idx.ndim != 1:
        raise ValueError(f"index_select: expected a 1-d index, got shape {idx.shape}")
    return cp.take(x, _indices(idx), axis=1)


def index_select_bwd(gy, idx, n):
    """zeros (outer, n, inner) with gy[:, j] added to slice idx[j] of the middle axis."""
    import cupy as cp
    if idx.ndim != 1 or gy.ndim != 3 or gy.shape[1] != idx.shape[0]:
        raise ValueError(f"index_select_bwd: expected a gradient (outer, m, inner) for an index "
                         f"(m,), got {gy.shape} and {idx.shape}")
    outer, m, inner = gy.shape
    out = cp.zeros((outer, n, inner), dtype=gy.dtype)
    if gy.size:
        kernel(FAMILY, "index_add_fwd", gy.dtype)(
            grid_1d(gy.size), (BLOCK,),
            (_indices(idx), gy, out, np.int64(outer), np.int64(n), np.int64(m), np.int64(inner),
             scalar(gy.dtype, 1.0)))
    return out

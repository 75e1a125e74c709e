"""Launchers for kernels/pool.cu, mirroring pydyfast._C's pooling functions (csrc/pool.cpp):
max_pool2d_fwd/bwd and the separable-window avg_pool2d_fwd/bwd (1-D pooling calls them with H = 1).
"""
import numpy as np

from .. import cuda_kernels
from ..cuda_kernels import BLOCK, grid_1d

FAMILY = "pool"


def max_pool2d_fwd(x, kernel, stride, padding, dilation, out_size):
    """x (N, C, H, W) -> (y (N, C, OH, OW), argmax int64 (N, C, OH, OW) = h * W + w).

    Pairs (kh, kw), (sh, sw), (ph, pw), (dh, dw), (OH, OW); the first maximum of each window wins
    and a NaN propagates, as in PyTorch."""
    import cupy as cp
    N, C, H, W = x.shape
    OH, OW = out_size
    y = cp.empty((N, C, OH, OW), dtype=x.dtype)
    argmax = cp.empty(y.shape, dtype=cp.int64)
    if y.size:
        geometry = (N, C, H, W, OH, OW) + tuple(kernel) + tuple(stride) + tuple(padding) \
            + tuple(dilation)
        cuda_kernels.kernel(FAMILY, "max_pool2d_fwd", x.dtype)(
            grid_1d(y.size), (BLOCK,), (x, y, argmax) + tuple(np.int64(v) for v in geometry))
    return y, argmax


def max_pool2d_bwd(gy, idx, size):
    """gx (N, C, *size): gy added at each window's argmax (overlapping windows accumulate)."""
    import cupy as cp
    N, C = gy.shape[:2]
    gx = cp.zeros((N, C) + tuple(size), dtype=gy.dtype)
    if gy.size:
        cuda_kernels.kernel(FAMILY, "max_pool2d_bwd", gy.dtype)(
            grid_1d(gy.size), (BLOCK,),
            (gy, idx.astype(cp.int64, copy=False), gx, np.int64(gy.size),
             np.int64(gy.shape[2] * gy.shape[3]), np.int64(size[0] * size[1])))
    return gx


def _windows(dtype, h_start, h_end, h_scale, w_start, w_end, w_scale):
    """The per-axis window arrays on the GPU: ranges as int64, scales in the data's dtype."""
    import cupy as cp
    ints = [cp.asarray(a, dtype=cp.int64) for a in (h_start, h_end, w_start, w_end)]
    scales = [cp.asarray(a, dtype=dtype) for a in (h_scale, w_scale)]
    return ints[0], ints[1], scales[0], ints[2], ints[3], scales[1]


def _avg(fn, src, dst, size, windows):
    """Run the avg-pool kernel ``fn`` from src to dst; one thread per output window."""
    planes = src.shape[0] * src.shape[1]
    OH, OW = len(windows[0]), len(windows[3])
    if planes and OH and OW:
        fn(grid_1d(planes * OH * OW), (BLOCK,),
           (src, dst) + _windows(src.dtype, *windows) +
           tuple(np.int64(v) for v in (planes, size[0], size[1], OH, OW)))


def avg_pool2d_fwd(x, h_start, h_end, h_scale, w_start, w_end, w_scale):
    """y[n, c, i, j] = h_scale[i] w_scale[j] sum(x[n, c, h_start[i]:h_end[i], w_start[j]:w_end[j]]).
    x (N, C, H, W) -> y (N, C, len(h_start), len(w_start))."""
    import cupy as cp
    y = cp.empty(x.shape[:2] + (len(h_start), len(w_start)), dtype=x.dtype)
    _avg(cuda_kernels.kernel(FAMILY, "avg_pool2d_fwd", x.dtype), x, y, x.shape[2:],
         (h_start, h_end, h_scale, w_start, w_end, w_scale))
    return y


def avg_pool2d_bwd(gy, size, h_start, h_end, h_scale, w_start, w_end, w_scale):
    """The adjoint of avg_pool2d_fwd: gx (N, C, *size)."""
    import cupy as cp
    gx = cp.zeros(gy.shape[:2] + tuple(size), dtype=gy.dtype)
    _avg(cuda_kernels.kernel(FAMILY, "avg_pool2d_bwd", gy.dtype), gy, gx, size,
         (h_start, h_end, h_scale, w_start, w_end, w_scale))
    return gx

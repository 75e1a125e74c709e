"""Launchers for kernels/pool.cu: max, average and adaptive-average pooling (2-D; 1-D as H = 1)."""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel

FAMILY = "pool"


def pool_output_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length: floor or ceil of (size + 2p - d(k-1) - 1) / s, plus 1,
    where a last window that would start inside the right padding is dropped (ceil_mode)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _geometry(x, out_hw, kh, kw, sh, sw, ph, pw, dh, dw):
    N, C, H, W = x.shape
    OH, OW = out_hw
    return (N, C, OH, OW), tuple(np.int64(v) for v in
                                 (N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw))


def _sizes(x, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode):
    H, W = x.shape[2:]
    OH = pool_output_size(H, kh, sh, ph, dh, ceil_mode)
    OW = pool_output_size(W, kw, sw, pw, dw, ceil_mode)
    if OH <= 0 or OW <= 0:
        raise ValueError(f"pool: input {x.shape} is smaller than the window ({kh}, {kw}) with "
                         f"padding ({ph}, {pw}) and dilation ({dh}, {dw})")
    return OH, OW


def max_pool2d_fwd(x, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode):
    """x (N, C, H, W) -> (y (N, C, OH, OW), argmax int64 (N, C, OH, OW) = h * W + w)."""
    import cupy as cp
    shape, geometry = _geometry(x, _sizes(x, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode),
                                kh, kw, sh, sw, ph, pw, dh, dw)
    y = cp.empty(shape, dtype=x.dtype)
    argmax = cp.empty(shape, dtype=cp.int64)
    if y.size:
        kernel(FAMILY, "max_pool_fwd", x.dtype)(grid_1d(y.size), (BLOCK,),
                                                 (x, y, argmax) + geometry)
    return y, argmax


def max_pool2d_bwd(gy, argmax, input_shape):
    """gx (input_shape): gy added at each window's argmax (overlapping windows accumulate)."""
    import cupy as cp
    gx = cp.zeros(tuple(input_shape), dtype=gy.dtype)
    if gy.size:
        plane_out = gy.shape[2] * gy.shape[3]
        plane_in = input_shape[2] * input_shape[3]
        kernel(FAMILY, "max_pool_bwd", gy.dtype)(
            grid_1d(gy.size), (BLOCK,),
            (gy, cp.ascontiguousarray(argmax, dtype=cp.int64), gx, np.int64(gy.size),
             np.int64(plane_out), np.int64(plane_in)))
    return gx


def avg_pool2d_fwd(x, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad):
    """x (N, C, H, W) -> y (N, C, OH, OW), window means with PyTorch's divisor rule."""
    import cupy as cp
    shape, geometry = _geometry(x, _sizes(x, kh, kw, sh, sw, ph, pw, 1, 1, ceil_mode),
                                kh, kw, sh, sw, ph, pw, 1, 1)
    y = cp.empty(shape, dtype=x.dtype)
    if y.size:
        kernel(FAMILY, "avg_pool_fwd", x.dtype)(grid_1d(y.size), (BLOCK,),
                                                 (x, y) + geometry + (np.int32(count_include_pad),))
    return y


def avg_pool2d_bwd(gy, input_shape, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad):
    """gx (input_shape): each gy spread evenly (by the forward's divisor) over its window."""
    import cupy as cp
    gx = cp.zeros(tuple(input_shape), dtype=gy.dtype)
    if gy.size:
        _, geometry = _geometry(gx, gy.shape[2:], kh, kw, sh, sw, ph, pw, 1, 1)
        kernel(FAMILY, "avg_pool_bwd", gy.dtype)(
            grid_1d(gy.size), (BLOCK,), (gy, gx) + geometry + (np.int32(count_include_pad),))
    return gx


def adaptive_avg_pool2d_fwd(x, OH, OW):
    """x (N, C, H, W) -> y (N, C, OH, OW), bins [floor(i H / OH), ceil((i + 1) H / OH))."""
    import cupy as cp
    shape, geometry = _geometry(x, (OH, OW), 0, 0, 1, 1, 0, 0, 1, 1)
    y = cp.empty(shape, dtype=x.dtype)
    if y.size:
        kernel(FAMILY, "adaptive_avg_pool_fwd", x.dtype)(grid_1d(y.size), (BLOCK,),
                                                          (x, y) + geometry)
    return y


def adaptive_avg_pool2d_bwd(gy, input_shape):
    """gx (input_shape): each gy spread evenly over its bin."""
    import cupy as cp
    gx = cp.empty(tuple(input_shape), dtype=gy.dtype)
    if gx.size:
        _, geometry = _geometry(gx, gy.shape[2:], 0, 0, 1, 1, 0, 0, 1, 1)
        kernel(FAMILY, "adaptive_avg_pool_bwd", gy.dtype)(grid_1d(gx.size), (BLOCK,),
                                                           (gy, gx) + geometry)
    return gx

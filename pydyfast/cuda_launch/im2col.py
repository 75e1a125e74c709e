"""Launchers for kernels/im2col.cu, mirroring pydyfast._C's im2col / col2im (csrc/im2col.cpp).

Layout (PyTorch's unfold): x (N, C, H, W) <-> col (N, C * KH * KW, OH * OW), row (c KH + i) KW + j.
1-D convolutions call these with H = KH = 1.
"""
import numpy as np

from .. import cuda_kernels
from ..cuda_kernels import BLOCK, grid_1d

FAMILY = "im2col"


def _geometry(N, C, size, kernel_size, stride, padding, dilation):
    (H, W), (kh, kw) = size, kernel_size
    out = [(n + 2 * p - d * (k - 1) - 1) // s + 1
           for n, k, s, p, d in zip(size, kernel_size, stride, padding, dilation)]
    if min(out) <= 0:
        raise ValueError(f"im2col: input size {tuple(size)} is too small for kernel "
                         f"{tuple(kernel_size)} with padding {tuple(padding)} and dilation "
                         f"{tuple(dilation)}")
    OH, OW = out
    values = (N, C, H, W, kh, kw, OH, OW) + tuple(stride) + tuple(padding) + tuple(dilation)
    return OH, OW, tuple(np.int64(v) for v in values)


def im2col(x, kernel, stride, padding, dilation):
    """x (N, C, H, W) -> col (N, C * KH * KW, OH * OW); zeros where a window is in the padding.
    kernel, stride, padding, dilation: pairs (rows, columns)."""
    import cupy as cp
    N, C, H, W = x.shape
    OH, OW, geometry = _geometry(N, C, (H, W), kernel, stride, padding, dilation)
    col = cp.empty((N, C * kernel[0] * kernel[1], OH * OW), dtype=x.dtype)
    if col.size:
        cuda_kernels.kernel(FAMILY, "im2col", x.dtype)(grid_1d(col.size), (BLOCK,),
                                                       (x, col) + geometry)
    return col


def col2im(col, size, kernel, stride, padding, dilation):
    """col (N, C * KH * KW, OH * OW) -> x (N, C, *size): each pixel the SUM of the window entries
    that cover it (the adjoint of im2col, the convolution's input gradient)."""
    import cupy as cp
    N, C = col.shape[0], col.shape[1] // (kernel[0] * kernel[1])
    OH, OW, geometry = _geometry(N, C, tuple(size), kernel, stride, padding, dilation)
    if col.shape != (N, C * kernel[0] * kernel[1], OH * OW):
        raise ValueError(f"col2im: col has shape {col.shape}, expected "
                         f"{(N, C * kernel[0] * kernel[1], OH * OW)} for size {tuple(size)}")
    x = cp.empty((N, C) + tuple(size), dtype=col.dtype)
    if x.size:
        cuda_kernels.kernel(FAMILY, "col2im", col.dtype)(grid_1d(x.size), (BLOCK,),
                                                         (col, x) + geometry)
    return x

"""Launchers for kernels/im2col.cu, mirroring pydyfast._C's im2col / col2im (csrc/im2col.cpp).

Layout (PyTorch's unfold): x (N, C, H, W) <-> col (N, C * KH * KW, OH * OW), row (c KH + i) KW + j.
1-D convolutions call these with H = KH = 1.
"""
import numpy as np

from .. import cuda_kernels
from ..cuda_kernels import BLOCK, grid_1d
from .checks import checked_sizes

FAMILY = "im2col"


def _geometry(N, C, size, kernel_size, stride, padding, dilation, itemsize):
    (H, W), (kh, kw) = size, kernel_size
    for name, pair, low in (("kernel", kernel_size, 1), ("stride", stride, 1),
                            ("padding", padding, 0), ("dilation", dilation, 1)):
        checked_sizes("im2col", *pair)
        if min(pair) < low:
            raise ValueError(f"im2col: {name} {tuple(pair)} must be >= {low}")
    # The kernel computes padded offsets plus a stride in int64: bound those sums too.
    for n, k, s, p, d in zip(size, kernel_size, stride, padding, dilation):
        checked_sizes("im2col", n + 2 * p + s, d * k)
    out = [(n + 2 * p - d * (k - 1) - 1) // s + 1
           for n, k, s, p, d in zip(size, kernel_size, stride, padding, dilation)]
    if min(out) <= 0:
        raise ValueError(f"im2col: input size {tuple(size)} is too small for kernel "
                         f"{tuple(kernel_size)} with padding {tuple(padding)} and dilation "
                         f"{tuple(dilation)}")
    OH, OW = out
    checked_sizes("im2col", N, C, kh, kw, OH, OW, elem_bytes=itemsize)
    checked_sizes("im2col", N, C, H, W, elem_bytes=itemsize)
    values = (N, C, H, W, kh, kw, OH, OW) + tuple(stride) + tuple(padding) + tuple(dilation)
    return OH, OW, tuple(np.int64(v) for v in values)


def im2col(x, kernel, stride, padding, dilation):
    """x (N, C, H, W) -> col (N, C * KH * KW, OH * OW); zeros where a window is in the padding.
    kernel, stride, padding, dilation: pairs (rows, columns)."""
    N, C, H, W = x.shape
    OH, OW, geometry = _geometry(N, C, (H, W), kernel, stride, padding, dilation,
                                 x.dtype.itemsize)
    import cupy as cp
    col = cp.empty((N, C * kernel[0] * kernel[1], OH * OW), dtype=x.dtype)
    if col.size:
        cuda_kernels.kernel(FAMILY, "im2col", x.dtype)(grid_1d(col.size), (BLOCK,),
                                                       (x, col) + geometry)
    return col


def col2im(col, size, kernel, stride, padding, dilation):
    """col (N, C * KH * KW, OH * OW) -> x (N, C, *size): each pixel the SUM of the window entries
    that cover it (the adjoint of im2col, the convolution's input gradient)."""
    checked_sizes("col2im", *kernel)
    if min(kernel) < 1:
        raise ValueError(f"col2im: kernel {tuple(kernel)} must be >= 1")
    N, C = col.shape[0], col.shape[1] // (kernel[0] * kernel[1])
    OH, OW, geometry = _geometry(N, C, tuple(size), kernel, stride, padding, dilation,
                                 col.dtype.itemsize)
    import cupy as cp
    if col.shape != (N, C * kernel[0] * kernel[1], OH * OW):
        raise ValueError(f"col2im: col has shape {col.shape}, expected "
                         f"{(N, C * kernel[0] * kernel[1], OH * OW)} for size {tuple(size)}")
    x = cp.empty((N, C) + tuple(size), dtype=col.dtype)
    if x.size:
        cuda_kernels.kernel(FAMILY, "col2im", col.dtype)(grid_1d(x.size), (BLOCK,),
                                                         (col, x) + geometry)
    return x

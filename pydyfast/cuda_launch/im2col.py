"""Launchers for kernels/im2col.cu: im2col / col2im (2-D, and 1-D as the H = 1 case).

Layout (PyTorch's unfold): x (N, C, H, W) <-> cols (N, C * KH * KW, OH * OW).
"""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel

FAMILY = "im2col"


def conv_output_size(size, k, s, p, d):
    """floor((size + 2 p - d (k - 1) - 1) / s) + 1, the output length of a convolution."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _geometry(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw):
    OH, OW = conv_output_size(H, kh, sh, ph, dh), conv_output_size(W, kw, sw, pw, dw)
    if OH <= 0 or OW <= 0:
        raise ValueError(f"im2col: input ({N}, {C}, {H}, {W}) is smaller than the dilated kernel "
                         f"({kh}, {kw}) with padding ({ph}, {pw})")
    return OH, OW, tuple(np.int64(v) for v in (N, C, H, W, kh, kw, OH, OW, sh, sw, ph, pw, dh, dw))


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """x (N, C, H, W) -> cols (N, C * kh * kw, OH * OW); zeros where the window is in the
    padding."""
    import cupy as cp
    N, C, H, W = x.shape
    OH, OW, geometry = _geometry(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw)
    cols = cp.empty((N, C * kh * kw, OH * OW), dtype=x.dtype)
    if cols.size:
        kernel(FAMILY, "im2col", x.dtype)(grid_1d(cols.size), (BLOCK,), (x, cols) + geometry)
    return cols


def col2im(cols, input_shape, kh, kw, sh, sw, ph, pw, dh, dw):
    """cols (N, C * kh * kw, OH * OW) -> x (N, C, H, W): each pixel is the SUM of the window
    entries that cover it (the adjoint of im2col, used for the conv input gradient)."""
    import cupy as cp
    N, C, H, W = (int(v) for v in input_shape)
    OH, OW, geometry = _geometry(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw)
    if cols.shape != (N, C * kh * kw, OH * OW):
        raise ValueError(f"col2im: cols has shape {cols.shape}, expected "
                         f"{(N, C * kh * kw, OH * OW)} for input {(N, C, H, W)}")
    x = cp.empty((N, C, H, W), dtype=cols.dtype)
    if x.size:
        kernel(FAMILY, "col2im", cols.dtype)(grid_1d(x.size), (BLOCK,), (cols, x) + geometry)
    return x


def im2col1d(x, k, s, p, d):
    """x (N, C, L) -> cols (N, C * k, OL)."""
    N, C, L = x.shape
    return im2col(x.reshape(N, C, 1, L), 1, k, 1, s, 0, p, 1, d)


def col2im1d(cols, input_shape, k, s, p, d):
    """cols (N, C * k, OL) -> x (N, C, L), overlapping windows summed."""
    N, C, L = (int(v) for v in input_shape)
    return col2im(cols, (N, C, 1, L), 1, k, 1, s, 0, p, 1, d).reshape(N, C, L)

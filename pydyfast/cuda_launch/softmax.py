"""Launchers for kernels/softmax.cu: softmax / log_softmax over the last axis, cross-entropy."""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel, row_block, scalar

FAMILY = "softmax"


def _rows(x):
    n = x.shape[-1] if x.ndim else 1
    return (x.size // n if n else 0), n


def _softmax(x, log):
    import cupy as cp
    y = cp.empty_like(x)
    rows, n = _rows(x)
    if rows and n:
        kernel(FAMILY, "softmax_fwd", x.dtype)((rows,), (row_block(n),),
                                                (x, y, np.int64(rows), np.int64(n), np.int32(log)))
    return y


def _softmax_backward(y, gy, log):
    import cupy as cp
    gx = cp.empty_like(y)
    rows, n = _rows(y)
    if rows and n:
        kernel(FAMILY, "softmax_bwd", y.dtype)((rows,), (row_block(n),),
                                                (y, gy.astype(y.dtype, copy=False), gx,
                                                 np.int64(rows), np.int64(n), np.int32(log)))
    return gx


def softmax_fwd(x):
    """y = softmax(x) over the last axis; a row of all -inf gives zeros."""
    return _softmax(x, 0)


def log_softmax_fwd(x):
    """y = x - logsumexp(x) over the last axis."""
    return _softmax(x, 1)


def softmax_bwd(y, gy):
    """gx = y * (gy - sum(gy * y)) from the softmax output y."""
    return _softmax_backward(y, gy, 0)


def log_softmax_bwd(y, gy):
    """gx = gy - exp(y) * sum(gy) from the log_softmax output y."""
    return _softmax_backward(y, gy, 1)


def _weights(weight, n, dtype):
    import cupy as cp
    if weight is None:
        return cp.ones(n, dtype=dtype)
    return cp.ascontiguousarray(weight, dtype=dtype)


def cross_entropy_fwd(x, target, weight, ignore_index, label_smoothing):
    """Per-row loss of logits x (N, C) and class indices target (N,), and the row logsumexp.

    loss[i] = w[t] (1 - eps) (lse - x[i, t]) + eps / C * sum_c w[c] (lse - x[i, c]),
    0 where t == ignore_index. Returns (loss (N,), lse (N,)); the caller reduces.
    """
    import cupy as cp
    rows, n = x.shape
    loss = cp.empty(rows, dtype=x.dtype)
    lse = cp.empty(rows, dtype=x.dtype)
    if rows:
        kernel(FAMILY, "cross_entropy_fwd", x.dtype)(
            (rows,), (row_block(n),),
            (x, cp.ascontiguousarray(target, dtype=cp.int64), _weights(weight, n, x.dtype), loss,
             lse, np.int64(rows), np.int64(n), np.int64(ignore_index),
             scalar(x.dtype, label_smoothing)))
    return loss, lse


def cross_entropy_bwd(x, target, weight, lse, gloss, ignore_index, label_smoothing):
    """gx (N, C) of the per-row losses given their gradient gloss (N,)."""
    import cupy as cp
    rows, n = x.shape
    gx = cp.empty_like(x)
    w = _weights(weight, n, x.dtype)
    if x.size:
        kernel(FAMILY, "cross_entropy_bwd", x.dtype)(
            grid_1d(x.size), (BLOCK,),
            (x, cp.ascontiguousarray(target, dtype=cp.int64), w, lse,
             cp.ascontiguousarray(gloss, dtype=x.dtype), gx, np.int64(rows), np.int64(n),
             np.int64(ignore_index), scalar(x.dtype, label_smoothing),
             scalar(x.dtype, float(w.sum()))))
    return gx

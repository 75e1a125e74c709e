"""Launchers for kernels/softmax.cu: softmax / log_softmax over the last axis, cross-entropy."""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel, row_block, scalar

FAMILY = "softmax"


def _rows(x):
    n = x.shape[-1] if x.ndim else 1
    return (x.size // n if n else 0), n


def _softmax(fwd, x):
    import cupy as cp
    y = cp.empty_like(x)
    rows, n = _rows(x)
    if rows and n:
        fwd((rows,), (row_block(n),), (x, y, np.int64(n)))
    return y


def _softmax_backward(bwd, y, gy):
    import cupy as cp
    gx = cp.empty_like(y)
    rows, n = _rows(y)
    if rows and n:
        bwd((rows,), (row_block(n),),
            (y, gy.astype(y.dtype, copy=False), gx, np.int64(n)))
    return gx


def softmax_fwd(x):
    """y = softmax(x) over the last axis; a row of all -inf gives zeros."""
    return _softmax(kernel(FAMILY, "softmax_fwd", x.dtype), x)


def log_softmax_fwd(x):
    """y = x - logsumexp(x) over the last axis."""
    return _softmax(kernel(FAMILY, "log_softmax_fwd", x.dtype), x)


def softmax_bwd(y, gy):
    """gx = y * (gy - sum(gy * y)) from the softmax output y."""
    return _softmax_backward(kernel(FAMILY, "softmax_bwd", y.dtype), y, gy)


def log_softmax_bwd(y, gy):
    """gx = gy - exp(y) * sum(gy) from the log_softmax output y."""
    return _softmax_backward(kernel(FAMILY, "log_softmax_bwd", y.dtype), y, gy)


def _weights(weight, n, dtype):
    """The class weights on the GPU (ones without weight) and their sum."""
    import cupy as cp
    if weight is None:
        return cp.ones(n, dtype=dtype), float(n)
    w = weight.astype(dtype, copy=False)
    return w, float(w.sum())


def cross_entropy_fwd(logits, target, weight, ignore_index, smoothing):
    """Per-row parts of the cross-entropy of logits (N, C) and class indices target (N,).

    With logsumexp = row_max + log_sum (kept apart for float32 precision): nll = w[t]
    (logsumexp - x[t]), smooth = sum_c w[c] (logsumexp - x[c]) (0 unless ``smoothing``);
    nll = smooth = 0 where t == ignore_index. weight (C,) or None.
    Returns (nll, smooth, row_max, log_sum), each (N,).
    """
    import cupy as cp
    rows, n = logits.shape
    nll, smooth, row_max, log_sum = (cp.empty(rows, dtype=logits.dtype) for _ in range(4))
    if rows and n:
        w, wsum = _weights(weight, n, logits.dtype)
        kernel(FAMILY, "cross_entropy_fwd", logits.dtype)(
            (rows,), (row_block(n),),
            (logits, target.astype(cp.int64, copy=False), w, nll, smooth, row_max,
             log_sum, np.int64(rows), np.int64(n), np.int64(ignore_index),
             np.int32(bool(smoothing)), scalar(logits.dtype, wsum)))
    return nll, smooth, row_max, log_sum


def cross_entropy_bwd(logits, target, row_max, log_sum, a, b, weight):
    """gx (N, C) = p (a + b sum(w)) - b w - a onehot(t), p = softmax(logits), from the per-row
    a = d loss / d nll * w[t] and b = d loss / d smooth (0 on ignored rows)."""
    import cupy as cp
    rows, n = logits.shape
    gx = cp.empty_like(logits)
    if logits.size:
        w, wsum = _weights(weight, n, logits.dtype)
        kernel(FAMILY, "cross_entropy_bwd", logits.dtype)(
            grid_1d(logits.size), (BLOCK,),
            (logits, target.astype(cp.int64, copy=False), row_max, log_sum,
             a.astype(logits.dtype, copy=False), b.astype(logits.dtype, copy=False), w, gx, np.int64(rows), np.int64(n),
             scalar(logits.dtype, wsum)))
    return gx

"""Launchers for kernels/norm.cu: layer norm and RMS norm over the trailing n elements."""
import numpy as np

from ..cuda_kernels import kernel, row_block, scalar

FAMILY = "norm"


def _flat(x, n):
    return x.reshape(-1, n) if n else x.reshape(0, 0)


def _param(p, n, dtype, fill):
    import cupy as cp
    return cp.full(n, fill, dtype=dtype) if p is None else cp.ascontiguousarray(p.reshape(-1),
                                                                                dtype=dtype)


def _forward(x, weight, bias, n, eps, centered):
    import cupy as cp
    x2 = _flat(x, n)
    rows = x2.shape[0]
    y = cp.empty_like(x2)
    mean = cp.empty(rows, dtype=x.dtype)
    rstd = cp.empty(rows, dtype=x.dtype)
    if rows and n:
        kernel(FAMILY, "norm_fwd", x.dtype)(
            (rows,), (row_block(n),),
            (x2, _param(weight, n, x.dtype, 1), _param(bias, n, x.dtype, 0), y, mean, rstd,
             np.int64(rows), np.int64(n), scalar(x.dtype, eps), np.int32(centered)))
    return y.reshape(x.shape), mean, rstd


def _backward(x, gy, weight, mean, rstd, n, centered):
    import cupy as cp
    x2, g2 = _flat(x, n), _flat(gy.astype(x.dtype, copy=False), n)
    rows = x2.shape[0]
    gx = cp.empty_like(x2)
    gw = cp.zeros(n, dtype=x.dtype)
    gb = cp.zeros(n, dtype=x.dtype)
    if rows and n:
        kernel(FAMILY, "norm_bwd_input", x.dtype)(
            (rows,), (row_block(n),),
            (x2, g2, _param(weight, n, x.dtype, 1), mean, rstd, gx, np.int64(rows), np.int64(n),
             np.int32(centered)))
        # enough row chunks to fill the GPU, few enough that the atomics stay cheap
        chunks = max(1, min((rows + 63) // 64, 1024))
        kernel(FAMILY, "norm_bwd_params", x.dtype)(
            ((n + 31) // 32, chunks), (32, 8),
            (x2, g2, mean, rstd, gw, gb, np.int64(rows), np.int64(n)))
    return gx.reshape(x.shape), gw, gb


def layer_norm_fwd(x, weight, bias, n, eps):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last n elements of each row.

    x (..., *normalized_shape) with prod(normalized_shape) = n; weight/bias (n,) or None.
    Returns (y like x, mean (rows,), rstd (rows,)).
    """
    return _forward(x, weight, bias, n, eps, 1)


def layer_norm_bwd(x, gy, weight, mean, rstd, n):
    """Returns (gx like x, gweight (n,), gbias (n,))."""
    return _backward(x, gy, weight, mean, rstd, n, 1)


def rms_norm_fwd(x, weight, n, eps):
    """y = x / sqrt(mean(x^2) + eps) * weight. Returns (y like x, rstd (rows,))."""
    y, _, rstd = _forward(x, weight, None, n, eps, 0)
    return y, rstd


def rms_norm_bwd(x, gy, weight, rstd, n):
    """Returns (gx like x, gweight (n,))."""
    import cupy as cp
    gx, gw, _ = _backward(x, gy, weight, cp.zeros_like(rstd), rstd, n, 0)
    return gx, gw

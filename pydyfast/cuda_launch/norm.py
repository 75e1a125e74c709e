"""Launchers for kernels/norm.cu, mirroring csrc/norm.cpp: layer norm and RMS norm over the
last axis of x (rows, D) (the Python op flattens the normalized trailing axes to D)."""
import numpy as np

from ..cuda_kernels import kernel, row_block, scalar

FAMILY = "norm"


def _param(p, n, dtype, fill):
    import cupy as cp
    return cp.full(n, fill, dtype=dtype) if p is None else p.astype(dtype, copy=False)


def _forward(fwd, x, weight, bias, eps):
    import cupy as cp
    rows, n = x.shape
    y = cp.empty_like(x)
    mean = cp.empty(rows, dtype=x.dtype)
    rstd = cp.empty(rows, dtype=x.dtype)
    if rows and n:
        fwd((rows,), (row_block(n),),
            (x, _param(weight, n, x.dtype, 1), _param(bias, n, x.dtype, 0), y, mean, rstd,
             np.int64(n), scalar(x.dtype, eps)))
    return y, mean, rstd


def _backward(kernels, gy, x, mean, rstd, weight, need_weight, need_bias):
    import cupy as cp
    bwd_input, bwd_params = kernels
    rows, n = x.shape
    gx = cp.empty_like(x)
    gw = cp.zeros(n, dtype=x.dtype)
    gb = cp.zeros(n, dtype=x.dtype)
    gy = gy.astype(x.dtype, copy=False)
    if rows and n:
        bwd_input((rows,), (row_block(n),),
                  (x, gy, _param(weight, n, x.dtype, 1), mean, rstd, gx, np.int64(n)))
        if need_weight or need_bias:
            # enough row chunks to fill the GPU, few enough that the atomics stay cheap
            chunks = max(1, min((rows + 63) // 64, 1024))
            bwd_params(((n + 31) // 32, chunks), (32, 8),
                       (x, gy, mean, rstd, gw, gb, np.int64(rows), np.int64(n)))
    return gx, gw if need_weight else None, gb if need_bias else None


def layer_norm_fwd(x, weight, bias, eps):
    """y = (x - mean) rstd weight + bias, rstd = 1 / sqrt(var + eps), over each row of x (rows, D);
    weight/bias (D,) or None. Returns (y, mean (rows,), rstd (rows,))."""
    return _forward(kernel(FAMILY, "layer_norm_fwd", x.dtype), x, weight, bias, eps)


def rms_norm_fwd(x, weight, eps):
    """y = x rstd weight, rstd = 1 / sqrt(mean(x^2) + eps). Returns (y, mean = zeros, rstd)."""
    return _forward(kernel(FAMILY, "rms_norm_fwd", x.dtype), x, weight, None, eps)


def layer_norm_bwd(gy, x, mean, rstd, weight, need_weight, need_bias):
    """gx = rstd (h - mean(h) - xhat mean(h xhat)), h = gy weight; gweight = sum_rows gy xhat,
    gbias = sum_rows gy. Returns (gx, gweight or None, gbias or None)."""
    kernels = (kernel(FAMILY, "layer_norm_bwd_input", x.dtype),
               kernel(FAMILY, "layer_norm_bwd_params", x.dtype))
    return _backward(kernels, gy, x, mean, rstd, weight, need_weight, need_bias)


def rms_norm_bwd(gy, x, mean, rstd, weight, need_weight, need_bias):
    """As layer_norm_bwd without the mean terms (mean is zeros)."""
    kernels = (kernel(FAMILY, "rms_norm_bwd_input", x.dtype),
               kernel(FAMILY, "rms_norm_bwd_params", x.dtype))
    return _backward(kernels, gy, x, mean, rstd, weight, need_weight, need_bias)

"""Normalisation over the trailing axes: layer_norm and rms_norm.

Both see the input as (rows, D) with D = prod(normalized_shape); the compiled kernels
(csrc/norm.cpp) take the moments in one sweep per row, save mean and rstd, and return the
input, weight and bias gradients from one backward pass.
"""
import math

import numpy as np

from ..autograd import Function, fresh_reshape
from ..backend import dispatch
from ..tensor import Tensor

__all__ = ["layer_norm", "rms_norm"]


# ----------------------------------------------------------------------------- references
def _norm_ref(xp, x, weight, bias, eps, center):
    """x: (rows, D). Returns (y, mean, rstd); mean is zeros when not centering (RMS norm)."""
    mean = x.mean(axis=1) if center else xp.zeros(x.shape[0], x.dtype)
    xc = x - mean[:, None]
    rstd = 1 / xp.sqrt((xc * xc).mean(axis=1) + x.dtype.type(eps))
    y = xc * rstd[:, None]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, mean, rstd


def _layer_norm_ref(xp, x, weight, bias, eps):
    return _norm_ref(xp, x, weight, bias, eps, center=True)


def _rms_norm_ref(xp, x, weight, eps):
    return _norm_ref(xp, x, weight, None, eps, center=False)


def _norm_bwd_ref(xp, gy, x, mean, rstd, weight, need_weight, need_bias, center):
    xhat = (x - mean[:, None]) * rstd[:, None]
    h = gy if weight is None else gy * weight
    gx = h - (h * xhat).mean(axis=1, keepdims=True) * xhat
    if center:
        gx = gx - h.mean(axis=1, keepdims=True)
    gx = gx * rstd[:, None]
    gw = (gy * xhat).sum(axis=0) if need_weight else None
    gb = gy.sum(axis=0) if need_bias else None
    return gx, gw, gb


def _layer_norm_bwd_ref(xp, gy, x, mean, rstd, weight, need_weight, need_bias):
    return _norm_bwd_ref(xp, gy, x, mean, rstd, weight, need_weight, need_bias, center=True)


def _rms_norm_bwd_ref(xp, gy, x, mean, rstd, weight, need_weight, need_bias):
    return _norm_bwd_ref(xp, gy, x, mean, rstd, weight, need_weight, need_bias, center=False)


_KERNELS = {  # center -> (forward ref, forward kernel, backward ref, backward kernel)
    True: (_layer_norm_ref, "layer_norm_fwd", _layer_norm_bwd_ref, "layer_norm_bwd"),
    False: (_rms_norm_ref, "rms_norm_fwd", _rms_norm_bwd_ref, "rms_norm_bwd"),
}


# ----------------------------------------------------------------------------- function
class Norm(Function):
    """Layer norm (center=True) or RMS norm (center=False) over the last ``D`` elements.

    mean = sum(x) / D (0 for RMS), rstd = 1 / sqrt(sum((x - mean)^2) / D + eps),
    xhat = (x - mean) * rstd, y = xhat * weight + bias.
    Backward with h = gy * weight:
    gx = rstd * (h - mean(h) - xhat * mean(h * xhat)), gweight = sum_rows gy * xhat,
    gbias = sum_rows gy. Inputs: x, then weight and bias when given (flags say which).
    ``stats``, when a list, receives (mean, rstd) of the rows: batch_norm's running statistics
    come from the same pass instead of a second one over the input.
    """

    @staticmethod
    def forward(ctx, x, *params, size, eps, center, has_weight, has_bias, stats=None):
        # explicit rows, not -1 (ambiguous for empty x); a 0-size normalized shape has no rows
        rows_view = x.reshape(x.size // size if size else 0, size)
        weight = params[0].reshape(-1) if has_weight else None
        bias = params[-1].reshape(-1) if has_bias else None
        ref, kernel = _KERNELS[center][:2]
        if center:
            y, mean, rstd = dispatch(rows_view, weight, bias, eps=eps, ref=ref, native=kernel)
        else:
            y, mean, rstd = dispatch(rows_view, weight, eps=eps, ref=ref, native=kernel)
        if stats is not None:
            stats.append((mean, rstd))
        ctx.save_for_backward(rows_view, mean, rstd, weight)
        ctx.center, ctx.has_weight, ctx.has_bias = center, has_weight, has_bias
        ctx.shapes = (x.shape,) + tuple(p.shape for p in params)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        rows_view, mean, rstd, weight = ctx.saved_tensors
        g = gy.astype(rows_view.dtype, copy=False).reshape(rows_view.shape)
        needs = ctx.needs_input_grad
        need_weight = ctx.has_weight and needs[1]
        need_bias = ctx.has_bias and needs[-1]
        ref, kernel = _KERNELS[ctx.center][2:]
        gx, gw, gb = dispatch(g, rows_view, mean, rstd, weight, need_weight=need_weight,
                              need_bias=need_bias, ref=ref, native=kernel)
        grads = [fresh_reshape(gx, ctx.shapes[0])]
        if ctx.has_weight:
            grads.append(None if gw is None else gw.reshape(ctx.shapes[1]))
        if ctx.has_bias:
            grads.append(None if gb is None else gb.reshape(ctx.shapes[-1]))
        return tuple(grads)


def normalize_rows(rows, eps, stats=None):
    """(x - mean) * rstd of each row of ``rows`` (R, D), without affine parameters: the shared
    kernel of group_norm (rows are sample groups) and batch_norm (rows are channels)."""
    return Norm.apply(rows, size=rows.shape[-1], eps=float(eps), center=True, has_weight=False,
                      has_bias=False, stats=stats)


# ----------------------------------------------------------------------------- public API
def _normalized(op, input, normalized_shape, params):
    """Check the input and the affine parameters; returns (D, normalized_shape tuple)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    if not isinstance(normalized_shape, (tuple, list)) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool)
            for s in normalized_shape):
        raise TypeError(f"{op}: normalized_shape must be an int or a sequence of ints, got "
                        f"{normalized_shape!r}")
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or k > input.ndim or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(f"{op}: normalized_shape {normalized_shape} must equal the trailing "
                         f"dimensions of the input of shape {tuple(input.shape)}")
    for name, p in params:
        if p is None:
            continue
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(p).__name__}")
        if tuple(p.shape) != normalized_shape:
            raise ValueError(f"{op}: {name} of shape {tuple(p.shape)} must have the "
                             f"normalized_shape {normalized_shape}")
        if p.dtype != input.dtype:
            raise TypeError(f"{op}: {name} has dtype {p.dtype} but the input has "
                            f"{input.dtype}; expected the same dtype")
    return math.prod(normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` axes (no running stats).

    y = (x - mean) / sqrt(var + eps) * weight + bias, with mean and the biased variance taken
    over the trailing axes. input: (..., *normalized_shape); weight, bias: normalized_shape.
    """
    size = _normalized("layer_norm", input, normalized_shape, [("weight", weight),
                                                                ("bias", bias)])
    params = [p for p in (weight, bias) if p is not None]
    return Norm.apply(input, *params, size=size, eps=float(eps), center=True,
                      has_weight=weight is not None, has_bias=bias is not None)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """RMS normalisation over the trailing ``normalized_shape`` axes.

    y = x / sqrt(mean(x^2) + eps) * weight; eps=None uses finfo(input.dtype).eps, as
    ``torch.nn.functional.rms_norm``. input: (..., *normalized_shape); weight: normalized_shape.
    """
    size = _normalized("rms_norm", input, normalized_shape, [("weight", weight)])
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    params = [weight] if weight is not None else []
    return Norm.apply(input, *params, size=size, eps=float(eps), center=False,
                      has_weight=weight is not None, has_bias=False)

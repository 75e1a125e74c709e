"""Robust, margin, embedding and likelihood losses of ``pydyfast.nn.functional``: huber,
margin_ranking, cosine_embedding, triplet_margin, poisson_nll and gaussian_nll (PyTorch's
signatures; the deprecated size_average/reduce arguments are not taken).

All are composites of differentiable ops, so their gradients are the composites'.
"""
import math

import numpy as np

from ..backend import array_module
from ..ops.distance import pairwise_distance
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import clip, exp, log, maximum, sqrt, where
from ..tensor import Tensor
from .functional_loss import _operands, _reduce

__all__ = ["huber_loss", "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "poisson_nll_loss", "gaussian_nll_loss"]


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere (d = input - target),
    optionally weighted elementwise by ``weight``."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _operands("huber_loss", input, target, reduction)
    d = input - target
    a = _abs(d)
    loss = where((a < delta).data, d * d * 0.5, (a - 0.5 * delta) * delta)
    return _reduce(loss if weight is None else loss * weight, reduction)


def _same_shapes(op, **tensors):
    """Check floating Tensors of one shape; returns them in order."""
    shapes = {name: t.shape for name, t in tensors.items() if isinstance(t, Tensor)}
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got {t.dtype}")
    if len(set(shapes.values())) != 1:
        raise ValueError(f"{op}: expected inputs of one shape, got {shapes}")
    return tuple(tensors.values())


def _target(op, target, like):
    """``target`` (a Tensor, array or number) as a constant Tensor of the input's dtype."""
    data = target.data if isinstance(target, Tensor) else np.asarray(target)
    return Tensor._wrap(array_module(like.data).asarray(data).astype(like.dtype))


def _check_reduction(op, reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """max(0, -y (x1 - x2) + margin) with y = 1 (x1 should rank higher) or -1."""
    op = "margin_ranking_loss"
    _check_reduction(op, reduction)
    input1, input2 = _same_shapes(op, input1=input1, input2=input2)
    y = _target(op, target, input1)
    if y.shape != input1.shape:
        raise ValueError(f"{op}: target of shape {y.shape} does not match inputs of shape "
                         f"{input1.shape}")
    return _reduce(clip(-y * (input1 - input2) + margin, 0.0, None), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """1 - cos(x1, x2) where y = 1 and max(0, cos(x1, x2) - margin) where y = -1; inputs
    (N, D) with target (N,), or (D,) with a 0-d target. cos as PyTorch computes it here:
    sum(x1 x2) / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))."""
    op = "cosine_embedding_loss"
    _check_reduction(op, reduction)
    input1, input2 = _same_shapes(op, input1=input1, input2=input2)
    if input1.ndim not in (1, 2):
        raise ValueError(f"{op}: expected inputs (N, D) or (D,), got {input1.shape}")
    y = _target(op, target, input1)
    if y.shape != input1.shape[:-1]:
        raise ValueError(f"{op}: target of shape {y.shape} does not match inputs of shape "
                         f"{input1.shape}; expected {input1.shape[:-1]}")
    eps = 1e-12
    dot = (input1 * input2).sum(axis=-1)
    cos = dot / sqrt(((input1 * input1).sum(axis=-1) + eps)
                     * ((input2 * input2).sum(axis=-1) + eps))
    positive, negative = (y == 1).data, (y == -1).data
    loss = where(positive, 1.0 - cos, 0.0) + where(negative, clip(cos - margin, 0.0, None), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6,
                        swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-distance over the last
    dimension; ``swap`` uses min(d(a, n), d(p, n)) as the negative distance. Inputs (N, D) or
    (D,)."""
    op = "triplet_margin_loss"
    _check_reduction(op, reduction)
    if not margin > 0:
        raise ValueError(f"{op}: margin must be positive, got {margin}")
    anchor, positive, negative = _same_shapes(op, anchor=anchor, positive=positive,
                                              negative=negative)
    if anchor.ndim not in (1, 2):
        raise ValueError(f"{op}: expected inputs (N, D) or (D,), got {anchor.shape}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = -maximum(-d_neg, -pairwise_distance(positive, negative, p, eps))
    return _reduce(clip(d_pos - d_neg + margin, 0.0, None), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8,  # noqa: A002
                     reduction="mean"):
    """Negative log-likelihood of ``target`` under Poisson(rate): rate = e^input with
    ``log_input`` (loss e^x - t x), else rate = input (loss x - t log(x + eps)); ``full`` adds
    Stirling's log(t!) ~ t log t - t + 0.5 log(2 pi t) where t > 1."""
    input, target = _operands("poisson_nll_loss", input, target, reduction)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        t = target.data
        xp = array_module(t)
        safe = xp.where(t > 1, t, 1)
        stirling = xp.where(t > 1, safe * xp.log(safe) - safe + 0.5 * xp.log(2 * math.pi * safe),
                            0)
        loss = loss + Tensor._wrap(stirling.astype(t.dtype))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6,  # noqa: A002
                      reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi with ``full``), var clamped
    below at eps. var has the input's shape, or lacks (or has size 1 in) its last dimension
    (one variance per sample); a number is one shared variance."""
    op = "gaussian_nll_loss"
    input, target = _operands(op, input, target, reduction)
    if not isinstance(var, Tensor):
        var = _target(op, var, input)
    if var.dtype.kind != "f":
        raise TypeError(f"{op}: var must be floating point, got {var.dtype}")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.shape[:-1] == input.shape[:-1] and var.shape[-1:] == (1,)) \
                and var.ndim != 0:
            raise ValueError(f"{op}: var of shape {var.shape} does not match input of shape "
                             f"{input.shape}; expected the input's shape, without its last "
                             f"dimension, or with it of size 1")
    data = var.data
    if data.size and float(data.min()) < 0:
        raise ValueError(f"{op}: var has negative entries")
    # PyTorch clamps var in place outside autograd: the clamp's gradient is the identity
    var = var + Tensor._wrap(array_module(data).maximum(data, data.dtype.type(eps)) - data)
    d = input - target
    loss = (log(var) + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)

"""Regression and binary losses of ``pydyfast.nn.functional`` (cross_entropy and nll_loss live
with the softmax kernels in ``pydyfast.ops.softmax``).

Every loss takes ``reduction``: 'none' (elementwise, the input's shape), 'mean' or 'sum'.
"""
import warnings

import numpy as np

from ..ops.activation import Softplus
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import constant, exp, log, where
from ..ops.loss import BinaryCrossEntropy
from ..ops.softmax import cross_entropy, log_softmax
from ..tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div", "cross_entropy_loss"]

_REDUCTIONS = ("none", "mean", "sum")


def _operands(op, input, target, reduction, extra=(), broadcast=False):  # noqa: A002
    """Check input/target (same shape, floating input) and the reduction; ``target`` may be an
    array or number, made a constant Tensor of the input's dtype. With ``broadcast`` (the
    regression losses) shapes that broadcast are accepted with torch's warning."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.data.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype}")
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS + extra}, got "
                         f"{reduction!r}")
    if not isinstance(target, Tensor):
        target = constant(np.asarray(target, dtype=input.data.dtype), input, op)
    elif target.data.dtype != input.data.dtype:
        target = target.to(dtype=input.data.dtype)
    if target.shape != input.shape and broadcast and _broadcasts(input.shape, target.shape):
        warnings.warn(f"{op}: using a target size {target.shape} that is different to the input "
                      f"size {input.shape}. This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)
    elif target.shape != input.shape:
        raise ValueError(f"{op}: target of shape {target.shape} does not match input of shape "
                         f"{input.shape}; expected the same shape")
    return input, target


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def mse_loss(input, target, reduction="mean"):  # noqa: A002  (PyTorch's argument names)
    """(input - target)^2, reduced. Shapes that differ but broadcast are broadcast with a
    warning, as in torch."""
    input, target = _operands("mse_loss", input, target, reduction, broadcast=True)
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    """|input - target|, reduced (gradient 0 where they are equal, as in PyTorch)."""
    input, target = _operands("l1_loss", input, target, reduction, broadcast=True)
    return _reduce(_abs(input - target), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):  # noqa: A002
    """Huber-like loss: 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere
    (d = input - target; beta = 0 gives the L1 loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _operands("smooth_l1_loss", input, target, reduction, broadcast=True)
    d = _abs(input - target)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(where((d < beta).data, d * d * (0.5 / beta), d - 0.5 * beta), reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target`` in [0, 1],
    optionally rescaled elementwise by ``weight`` (broadcast to the input's shape)."""
    input, target = _operands("binary_cross_entropy", input, target, reduction)
    data = input.data
    if data.size and (float(data.min()) < 0 or float(data.max()) > 1):
        raise ValueError(f"binary_cross_entropy: input values must lie in [0, 1], got "
                         f"[{float(data.min())}, {float(data.max())}]; use "
                         f"binary_cross_entropy_with_logits for logits")
    loss = BinaryCrossEntropy.apply(input, target)
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",  # noqa: A002
                                     pos_weight=None):
    """sigmoid + binary cross-entropy in one stable expression:
    l = (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), finite for logits of +-1e4.
    ``pos_weight`` (broadcast over the last axis, one per class) weighs the positive term."""
    input, target = _operands("binary_cross_entropy_with_logits", input, target, reduction)
    softplus_neg = Softplus.apply(-input, beta=input.data.dtype.type(1), threshold=None)
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    return _reduce(loss if weight is None else loss * weight, reduction)


def kl_div(input, target, reduction="mean", log_target=False):  # noqa: A002
    """KL divergence with ``input`` holding log-probabilities:
    l = t (log t - input), 0 where t = 0 (or e^t (t - input) with ``log_target``).
    reduction 'batchmean' divides the sum by the batch size (the mathematically right mean)."""
    input, target = _operands("kl_div", input, target, reduction, extra=("batchmean",))
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = (target > 0).data
        # log of 1 where t = 0 keeps both where-branches finite, so no 0 * inf in the gradient
        loss = where(positive, target * (log(where(positive, target, 1.0)) - input), 0.0)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def cross_entropy_loss(y_pred, y_true, reduction="mean"):
    """PyDyNet's cross-entropy of logits ``y_pred`` (n, c). Against class indices (n,) it is
    ``cross_entropy``; against probabilities (n, c) PyDyNet reduces ``-log_softmax * y_true``
    over all n*c elements, so its mean is ``cross_entropy``'s divided by c."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"cross_entropy_loss: reduction must be 'mean' or 'sum', got "
                         f"{reduction!r}")
    if getattr(y_true, "ndim", None) == 1:
        return cross_entropy(y_pred, y_true, reduction=reduction)
    return _reduce(-log_softmax(y_pred, axis=1) * y_true, reduction)

"""Softmax family: softmax, log_softmax, cross_entropy and nll_loss.

The compiled kernels (csrc/softmax.cpp) work on rows with the softmax axis last; the ops move
any other axis there (one copy) and back. Rows are max-subtracted, so inputs of +-1e4 give no
inf or nan, and a row that is entirely -inf (fully masked) gives softmax zeros and
log_softmax -inf instead of nan.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module, dispatch
from ..tensor import Tensor
from .reduce import resolve_axes

__all__ = ["softmax", "log_softmax", "cross_entropy", "nll_loss"]

_REDUCTIONS = ("none", "mean", "sum")


# ----------------------------------------------------------------------------- references
def _masked_row_max(xp, x):
    """Row max over the last axis, 0 where a row is all -inf (so x - max stays -inf, not nan)."""
    if x.shape[-1] == 0:  # rows without entries have no max; nothing is subtracted from them
        return xp.zeros(x.shape[:-1] + (1,), x.dtype)
    m = x.max(axis=-1, keepdims=True)
    return xp.where(xp.isneginf(m), xp.zeros((), x.dtype), m)


def _softmax_ref(xp, x):
    e = xp.exp(x - _masked_row_max(xp, x))
    s = e.sum(axis=-1, keepdims=True)
    return e / xp.where(s == 0, xp.ones((), x.dtype), s)


def _log_softmax_ref(xp, x):
    shifted = x - _masked_row_max(xp, x)  # (x - max) - log(sum): keeps float32 precision
    s = xp.exp(shifted).sum(axis=-1, keepdims=True)
    return shifted - xp.log(xp.where(s == 0, xp.ones((), x.dtype), s))


def _softmax_bwd_ref(xp, y, gy):
    return y * (gy - (gy * y).sum(axis=-1, keepdims=True))


def _log_softmax_bwd_ref(xp, y, gy):
    return gy - xp.exp(y) * gy.sum(axis=-1, keepdims=True)


def _cross_entropy_ref(xp, logits, target, weight, ignore_index, smoothing):
    """Per-row terms of the index cross-entropy (see ``CrossEntropy``). logits: (rows, C)."""
    rows, classes = logits.shape
    m = _masked_row_max(xp, logits)[:, 0]
    log_sum = xp.log(xp.exp(logits - m[:, None]).sum(axis=1))
    valid = target != ignore_index
    safe = xp.where(valid, target, 0)
    w = xp.ones(classes, logits.dtype) if weight is None else weight
    picked = logits[xp.arange(rows), safe]
    zero = xp.zeros((), logits.dtype)
    nll = xp.where(valid, w[safe] * ((m - picked) + log_sum), zero)
    smooth = xp.zeros(rows, logits.dtype)
    if smoothing:
        total = w.sum()
        smooth = xp.where(valid, m * total - logits @ w + log_sum * total, zero)
    return nll, smooth, m, log_sum


def _cross_entropy_bwd_ref(xp, logits, target, row_max, log_sum, a, b, weight):
    rows, classes = logits.shape
    total = classes if weight is None else weight.sum()
    p = xp.exp((logits - row_max[:, None]) - log_sum[:, None])
    g = p * (a + b * total)[:, None] - b[:, None] * (1 if weight is None else weight)
    inside = (target >= 0) & (target < classes)
    g[xp.arange(rows)[inside], target[inside]] -= a[inside]
    return g


# ----------------------------------------------------------------------------- functions
class Softmax(Function):
    """softmax (log=False) or log_softmax (log=True) over ``axis``; x: any shape, y: same.

    softmax: y = exp(x - max) / sum(exp(x - max));   gx = y * (gy - sum(gy * y))
    log_softmax: y = x - max - log(sum(exp(x - max)));   gx = gy - exp(y) * sum(gy)
    """

    @staticmethod
    def forward(ctx, x, axis, log):
        xp = array_module(x)
        last = xp.moveaxis(x, axis, -1)
        if log:
            y = dispatch(last, ref=_log_softmax_ref, native="log_softmax_fwd")
        else:
            y = dispatch(last, ref=_softmax_ref, native="softmax_fwd")
        ctx.save_for_backward(y)
        ctx.axis, ctx.log = axis, log
        return xp.moveaxis(y, -1, axis)

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        xp = array_module(gy)
        g = xp.moveaxis(gy, ctx.axis, -1).astype(y.dtype, copy=False)
        if ctx.log:
            gx = dispatch(y, g, ref=_log_softmax_bwd_ref, native="log_softmax_bwd")
        else:
            gx = dispatch(y, g, ref=_softmax_bwd_ref, native="softmax_bwd")
        if ctx.axis in (-1, gx.ndim - 1):
            return gx  # a fresh array, not a view: autograd keeps it as a leaf's .grad uncopied
        return xp.moveaxis(gx, -1, ctx.axis)


def _classes_last(xp, x):
    """(C,) -> (1, C); (N, C, d1, ...) -> (N * d1 * ..., C)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    moved = xp.moveaxis(x, 1, -1) if x.ndim > 2 else x
    return moved.reshape(-1, x.shape[1])


def _classes_back(xp, g, shape):
    """Inverse of ``_classes_last`` for a gradient of the input's ``shape``."""
    if len(shape) <= 2:
        return g.reshape(shape)
    return xp.moveaxis(g.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)), -1, 1)


def _per_row_coefficients(ctx, gy):
    """d loss / d (per-row term) for each row, from the upstream gradient and the reduction."""
    if ctx.reduction == "none":
        return gy.reshape(-1)
    return gy  # 0-d: broadcasts over rows


def _reduce_rows(xp, terms, reduction, denominator, dtype):
    if reduction == "none":
        return terms
    total = terms.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # all rows ignored: nan, as torch
            total = total / denominator
    return xp.asarray(total, dtype=dtype)


class CrossEntropy(Function):
    """Cross-entropy of logits against class indices, fused (log-softmax + gather + smoothing).

    With lse_i = log(sum_c exp(x_ic)) (kept as max_i and log_sum_i), target t_i, class
    weights w (1 without weight) and smoothing eps over C classes, per row i (0 where t_i == ignore_index):
        nll_i = w[t_i] * (lse_i - x_it),   smooth_i = sum_c w_c * (lse_i - x_ic)
        loss_i = (1 - eps) * nll_i + eps / C * smooth_i
    'mean' divides the sum by sum_i w[t_i] over the kept rows (their count without weight),
    as PyTorch 2.13 does.
    Backward: gx_ic = p_ic * (a_i + b_i * sum(w)) - b_i * w_c - a_i [c == t_i], p = softmax(x).
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        xp = array_module(x)
        logits = _classes_last(xp, x)
        classes = logits.shape[1]
        flat_target = target.reshape(-1).astype(np.int64, copy=False)
        smoothing = label_smoothing > 0
        nll, smooth, row_max, log_sum = dispatch(
            logits, flat_target, weight, ignore_index=ignore_index, smoothing=smoothing,
            ref=_cross_entropy_ref, native="cross_entropy_fwd")
        kept = flat_target != ignore_index
        if weight is None:
            kept_weight = kept.astype(x.dtype)
        else:
            kept_weight = xp.where(kept, weight[xp.where(kept, flat_target, 0)],
                                   xp.zeros((), x.dtype))
        nll_scale = 1.0 - label_smoothing
        smooth_scale = label_smoothing / classes
        denominator = None
        if reduction == "mean":  # fold the denominator into the scales: a sum from here on
            denominator = kept_weight.sum()
            # No kept row (an empty batch, or every target ignored): the loss is nan and the
            # gradient zero, as in torch; dividing by 1 keeps the scales finite for backward.
            safe = xp.where(denominator == 0, xp.ones((), denominator.dtype), denominator)
            nll_scale = nll_scale / safe
            smooth_scale = smooth_scale / safe
            reduction = "sum"
        terms = nll_scale * nll + smooth_scale * smooth if smoothing else nll_scale * nll
        loss = _reduce_rows(xp, terms.astype(x.dtype, copy=False), reduction, None, x.dtype)
        if denominator is not None:
            loss = xp.where(denominator == 0, xp.asarray(np.nan, x.dtype), loss)
        ctx.save_for_backward(logits, flat_target, row_max, log_sum, weight)
        ctx.input_shape, ctx.reduction = x.shape, reduction
        ctx.kept_weight, ctx.kept = kept_weight, kept
        ctx.scales = (nll_scale, smooth_scale if smoothing else 0.0)
        return loss.reshape(target.shape) if reduction == "none" else loss

    @staticmethod
    def backward(ctx, gy):
        logits, target, row_max, log_sum, weight = ctx.saved_tensors
        xp = array_module(gy)
        g = _per_row_coefficients(ctx, gy)
        dtype = logits.dtype
        a = (ctx.scales[0] * g * ctx.kept_weight).astype(dtype, copy=False)
        b = (ctx.scales[1] * g * ctx.kept).astype(dtype, copy=False)
        gx = dispatch(logits, target, row_max, log_sum, a, b, weight, ref=_cross_entropy_bwd_ref,
                      native="cross_entropy_bwd")
        return _classes_back(xp, gx, ctx.input_shape)


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities ``x`` at class indices.

    loss_i = -w[t_i] * x[i, t_i] (0 where t_i == ignore_index); 'mean' divides the sum by
    sum_i w[t_i] over kept rows. Backward scatters -w[t_i] * g_i into the target entries.
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = array_module(x)
        logp = _classes_last(xp, x)
        rows = logp.shape[0]
        flat_target = target.reshape(-1)
        kept = flat_target != ignore_index
        safe = xp.where(kept, flat_target, 0)
        w = xp.ones((), x.dtype) if weight is None else weight[safe]
        kept_weight = xp.where(kept, w, xp.zeros((), x.dtype)).astype(x.dtype, copy=False)
        terms = -kept_weight * logp[xp.arange(rows), safe]
        loss = _reduce_rows(xp, terms, reduction, kept_weight.sum(), x.dtype)
        ctx.safe, ctx.kept_weight, ctx.reduction = safe, kept_weight, reduction
        ctx.input_shape, ctx.denominator = x.shape, kept_weight.sum()
        return loss.reshape(target.shape) if reduction == "none" else loss

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        rows = ctx.safe.shape[0]
        g = _per_row_coefficients(ctx, gy)
        if ctx.reduction == "mean":  # no kept row: nan loss but zero gradient, as in torch
            g = g / xp.where(ctx.denominator == 0, xp.ones((), ctx.denominator.dtype),
                             ctx.denominator)
        classes = ctx.input_shape[1] if len(ctx.input_shape) > 1 else ctx.input_shape[0]
        gx = xp.zeros((rows, classes), ctx.kept_weight.dtype)
        gx[xp.arange(rows), ctx.safe] = -ctx.kept_weight * g
        return _classes_back(xp, gx, ctx.input_shape)


# ----------------------------------------------------------------------------- public API
def _check_float_tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")


def _softmax_axis(op, x, axis, dim):
    _check_float_tensor(op, x)
    if dim is not None and axis == -1:  # dim= given, axis left at its default
        axis = None
    axes = resolve_axes(op, x.ndim, axis, dim)
    if axes is None:
        raise TypeError(f"{op}: expected one axis (axis= or dim=), got None")
    return axes[0]


def softmax(input, axis=-1, *, dim=None):
    """softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x)) over ``axis``/``dim``.

    input: any shape; returns the same shape and dtype. Rows of all -inf give zeros.
    """
    axis = _softmax_axis("softmax", input, axis, dim)
    if input.ndim == 0:
        return Softmax.apply(input.reshape(1), axis=0, log=False).reshape(())
    return Softmax.apply(input, axis=axis, log=False)


def log_softmax(input, axis=-1, *, dim=None):
    """log_softmax(x)_i = x_i - max(x) - log(sum_j exp(x_j - max(x))) over ``axis``/``dim``.

    input: any shape; returns the same shape and dtype. Rows of all -inf give -inf.
    """
    axis = _softmax_axis("log_softmax", input, axis, dim)
    if input.ndim == 0:
        return Softmax.apply(input.reshape(1), axis=0, log=True).reshape(())
    return Softmax.apply(input, axis=axis, log=True)


def _class_weight(op, weight, input, classes):
    if weight is None:
        return None
    data = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if data.shape != (classes,):
        raise ValueError(f"{op}: weight of shape {tuple(data.shape)} must have one entry per "
                         f"class, expected ({classes},) for input {tuple(input.shape)}")
    xp = array_module(input.data)
    return xp.asarray(data, dtype=input.dtype)


def _check_class_target(op, input, target, ignore_index, allow_probabilities):
    """The target's array, checked: indices of shape input.shape minus the class axis, each
    in [0, C) or ignore_index; or (if allowed) floats of the input's shape. Returns
    (array, classes, is_probabilities)."""
    _check_float_tensor(op, input)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis, got a 0-d tensor")
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    data = target.data if isinstance(target, Tensor) else np.asarray(target)
    if data.dtype.kind == "f" and allow_probabilities:
        if data.shape != input.shape:
            raise ValueError(f"{op}: class-probability target of shape {tuple(data.shape)} must "
                             f"match the input's shape {tuple(input.shape)}")
        return data, classes, True
    if data.dtype.kind not in "iu":
        expected = "integer class indices" + (" or float class probabilities"
                                              if allow_probabilities else "")
        raise TypeError(f"{op}: target of dtype {data.dtype}: expected {expected}")
    expected_shape = tuple(input.shape[:1]) + tuple(input.shape[2:]) if input.ndim > 1 else ()
    if tuple(data.shape) != expected_shape:
        raise ValueError(f"{op}: target of shape {tuple(data.shape)} does not match input "
                         f"{tuple(input.shape)}: expected {expected_shape}")
    bad = (data != ignore_index) & ((data < 0) | (data >= classes))
    if bad.any():
        value = int(data[bad].reshape(-1)[0])
        raise IndexError(f"{op}: target value {value} is out of range for {classes} classes "
                         f"(expected 0 <= target < {classes}, or ignore_index={ignore_index})")
    return data, classes, False


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction={reduction!r} is not one of {_REDUCTIONS}")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between logits and targets, as ``torch.nn.functional.cross_entropy``.

    input: (N, C), (N, C, d1, ...) or (C,) logits. target: class indices of shape (N,),
    (N, d1, ...) or () (rows equal to ignore_index are skipped), or class probabilities of the
    input's shape. weight: (C,) class weights. label_smoothing eps mixes the target with the
    uniform distribution: target' = (1 - eps) * target + eps / C.
    Returns a scalar ('mean', 'sum') or the per-element losses ('none').
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(f"{op}: label_smoothing={label_smoothing} must be in [0, 1]")
    data, classes, probabilities = _check_class_target(op, input, target, ignore_index, True)
    w = _class_weight(op, weight, input, classes)
    if probabilities:  # a Tensor target stays in the graph: torch gives it a gradient too
        probs = target.to(dtype=input.dtype) if isinstance(target, Tensor) else Tensor._wrap(
            array_module(input.data).asarray(data, dtype=input.dtype))
        return _cross_entropy_probabilities(input, probs, w, reduction, float(label_smoothing))
    return CrossEntropy.apply(input, target=array_module(input.data).asarray(data), weight=w,
                              ignore_index=int(ignore_index), reduction=reduction,
                              label_smoothing=float(label_smoothing))


def _cross_entropy_probabilities(input, target, weight, reduction, eps):
    """loss = -sum_c w_c * target'_c * log_softmax(input)_c over the class axis."""
    class_axis = 1 if input.ndim > 1 else 0
    classes = input.shape[class_axis]
    probs = target
    if eps:
        probs = probs * (1 - eps) + eps / classes
    if weight is not None:
        shape = [1] * input.ndim
        shape[class_axis] = classes
        probs = probs * Tensor._wrap(weight.reshape(shape))
    loss = -(log_softmax(input, axis=class_axis) * probs).sum(axis=class_axis)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood loss on log-probabilities, as ``torch.nn.functional.nll_loss``.

    input: (N, C), (N, C, d1, ...) or (C,) log-probabilities; target: class indices of
    shape (N,), (N, d1, ...) or (); weight: (C,). loss_i = -weight[t_i] * input[i, t_i];
    'mean' divides by the summed weights of the rows that are not ignore_index.
    """
    op = "nll_loss"
    _check_reduction(op, reduction)
    data, classes, _ = _check_class_target(op, input, target, ignore_index, False)
    w = _class_weight(op, weight, input, classes)
    return NLLLoss.apply(input, target=array_module(input.data).asarray(data), weight=w,
                         ignore_index=int(ignore_index), reduction=reduction)


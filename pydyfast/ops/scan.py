"""Scans along one dimension: cumsum, cumprod, cummax, cummin, logcumsumexp.

Kernels see the input as (outer, n, inner) with the scan over n (a reshape of the contiguous
input, no transpose): ``_C``'s scan family for float32/float64, the references below otherwise
(integer scans, ``PYDYFAST_KERNELS=numpy``, cupy). Integer and bool cumsum/cumprod return int64,
as torch's do.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import array_module, dispatch
from ..tensor import Tensor
from .reduce import ValuesIndices, resolve_axes

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]



def _cumsum_ref(xp, x, reverse):
    if reverse:
        return xp.flip(xp.cumsum(xp.flip(x, 1), axis=1), 1)
    return xp.cumsum(x, axis=1)


def _cumprod_ref(xp, x):
    return xp.cumprod(x, axis=1)


def _cumprod_bwd_ref(xp, x, gy):
    # gx_i = prod_{k<i} x_k * S_i with S_i = gy_i + x_{i+1} S_{i+1}: no division by x, so zeros
    # in x get torch's gradient. One numpy step per position along the (short) scan axis.
    n = x.shape[1]
    suffix = xp.empty_like(gy)
    if n:
        suffix[:, n - 1] = gy[:, n - 1]
    for k in range(n - 2, -1, -1):
        suffix[:, k] = gy[:, k] + x[:, k + 1] * suffix[:, k + 1]
    exclusive = xp.concatenate([xp.ones_like(x[:, :1]), xp.cumprod(x, axis=1)[:, :-1]], axis=1)
    return exclusive * suffix


def _cumextreme_ref(xp, x, largest):
    running = xp.maximum if largest else xp.minimum
    y = running.accumulate(x, axis=1)  # a nan propagates, as in torch
    positions = xp.arange(x.shape[1]).reshape(1, -1, 1)
    reached = (x == y) | xp.isnan(x)  # ties move the index to the later position, as torch
    idx = xp.maximum.accumulate(xp.where(reached, positions, 0), axis=1)
    return y, idx.astype(np.int64)


def _cumextreme_bwd_ref(xp, gy, idx):
    gx = xp.zeros_like(gy)
    outer, _, inner = gy.shape
    o = xp.arange(outer).reshape(-1, 1, 1)
    i = xp.arange(inner).reshape(1, 1, -1)
    xp.add.at(gx, (o, idx, i), gy)
    return gx


def _logcumsumexp_ref(xp, x):
    with np.errstate(invalid="ignore"):
        return xp.logaddexp.accumulate(x, axis=1)


def _ratio(xp, a, b):
    with np.errstate(invalid="ignore"):
        return xp.where(a == b, 1, xp.exp(a - b)).astype(a.dtype)


def _logcumsumexp_bwd_ref(xp, x, y, gy):
    # gx_i = exp(x_i - y_i) T_i, T_i = gy_i + exp(y_i - y_{i+1}) T_{i+1}: exponents <= 0
    n = x.shape[1]
    acc = xp.empty_like(gy)
    if n:
        acc[:, n - 1] = gy[:, n - 1]
    for k in range(n - 2, -1, -1):
        acc[:, k] = gy[:, k] + _ratio(xp, y[:, k], y[:, k + 1]) * acc[:, k + 1]
    return _ratio(xp, x, y) * acc


def one_axis(op, ndim, dim):
    """``dim`` as one non-negative axis; a 0-d tensor's dim 0 or -1 is axis 0, as torch takes
    it (resolve_axes gives a 0-d tensor no axes)."""
    axes = resolve_axes(op, ndim, dim)
    return axes[0] if axes else 0


def _lines(x, axis):
    """``x`` as a contiguous (outer, n, inner) array for a scan over ``axis``."""
    shape = x.shape
    outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])  # np.prod costs ~15 us
    return array_module(x).ascontiguousarray(x).reshape(outer, shape[axis], inner)


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return dispatch(_lines(x, axis), False, ref=_cumsum_ref,
                        native="cumsum_fwd").reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        return dispatch(_lines(gy, ctx.axis), True, ref=_cumsum_ref,
                        native="cumsum_fwd").reshape(gy.shape)


class CumProd(Function):
    @staticmethod
    def forward(ctx, x, axis):
        x3 = _lines(x, axis)
        ctx.save_for_backward(x3)
        ctx.axis = axis
        return dispatch(x3, ref=_cumprod_ref, native="cumprod_fwd").reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        (x3,) = ctx.saved_tensors
        return dispatch(x3, _lines(gy, ctx.axis), ref=_cumprod_bwd_ref,
                        native="cumprod_bwd").reshape(gy.shape)


class CumExtreme(Function):
    """Running max or min with the indices where each was reached (int64, no gradient)."""

    @staticmethod
    def forward(ctx, x, axis, largest):
        y, idx = dispatch(_lines(x, axis), largest, ref=_cumextreme_ref, native="cumextreme_fwd")
        ctx.save_for_backward(idx)
        ctx.axis = axis
        return y.reshape(x.shape), idx.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy, _gidx):
        (idx,) = ctx.saved_tensors
        return dispatch(_lines(gy, ctx.axis), idx, ref=_cumextreme_bwd_ref,
                        native="cumextreme_bwd").reshape(gy.shape)


class LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, x, axis):
        x3 = _lines(x, axis)
        y3 = dispatch(x3, ref=_logcumsumexp_ref, native="logcumsumexp_fwd")
        ctx.save_for_backward(x3, y3)
        ctx.axis = axis
        return y3.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        x3, y3 = ctx.saved_tensors
        return dispatch(x3, y3, _lines(gy, ctx.axis), ref=_logcumsumexp_bwd_ref,
                        native="logcumsumexp_bwd").reshape(gy.shape)


def _scan_input(op, x, dim, dtype):
    """The tensor (cast to ``dtype`` if given; integer and bool sums/products to int64) and the
    non-negative axis; a 0-d tensor scans as one element."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if dim is None:
        raise TypeError(f"{op}: missing the dim argument")
    axis = one_axis(op, x.ndim, dim)
    if dtype is not None:
        x = x.to(dtype=dtype)
    elif x.data.dtype.kind in "iub" and op in ("cumsum", "cumprod"):
        x = x.to(dtype=np.int64)
    if x.ndim == 0:
        return x.reshape(1), 0
    return x, axis


def _as_shape(t, shape):
    """``t`` in the input's ``shape``: only a 0-d input (scanned as one element) changes."""
    return t if t.shape == shape else t.reshape(shape)


def _integer_scan(x, axis, fn):
    """A scan of an integer tensor: no gradient, so the reference runs without a graph."""
    return Tensor._wrap(fn(array_module(x.data), _lines(x.data, axis)).reshape(x.shape))


def cumsum(input, dim=None, *, dtype=None, axis=None):  # noqa: A002  (torch's argument names)
    """Inclusive running sum along ``dim``; integer and bool tensors sum in int64."""
    shape = input.shape if isinstance(input, Tensor) else None
    x, a = _scan_input("cumsum", input, dim if axis is None else axis, dtype)
    if x.data.dtype.kind not in "fc":
        return _as_shape(_integer_scan(x, a, lambda xp, x3: _cumsum_ref(xp, x3, False)), shape)
    return _as_shape(CumSum.apply(x, axis=a), shape)


def cumprod(input, dim=None, *, dtype=None, axis=None):  # noqa: A002
    """Inclusive running product along ``dim``; the gradient is exact with zeros in the input."""
    shape = input.shape if isinstance(input, Tensor) else None
    x, a = _scan_input("cumprod", input, dim if axis is None else axis, dtype)
    if x.data.dtype.kind not in "fc":
        return _as_shape(_integer_scan(x, a, _cumprod_ref), shape)
    return _as_shape(CumProd.apply(x, axis=a), shape)


def _cumextreme(op, largest):
    def f(input, dim=None, *, axis=None):  # noqa: A002
        shape = input.shape if isinstance(input, Tensor) else None
        x, a = _scan_input(op, input, dim if axis is None else axis, None)
        if x.data.dtype.kind not in "fc":
            y, idx = _cumextreme_ref(array_module(x.data), _lines(x.data, a), largest)
            y, idx = Tensor._wrap(y), Tensor._wrap(idx)
        else:
            y, idx = CumExtreme.apply(x, axis=a, largest=largest)
        return ValuesIndices(_as_shape(y, shape), _as_shape(idx, shape))
    f.__name__ = op
    f.__doc__ = (f"Running {'maximum' if largest else 'minimum'} along ``dim`` and the index "
                 f"where it was reached (the later one on ties, as torch): (values, indices).")
    return f


cummax = _cumextreme("cummax", True)
cummin = _cumextreme("cummin", False)


def logcumsumexp(input, dim=None, *, axis=None):  # noqa: A002
    """log(cumsum(exp(x))) along ``dim``, computed without overflow; floating tensors only."""
    shape = input.shape if isinstance(input, Tensor) else None
    x, a = _scan_input("logcumsumexp", input, dim if axis is None else axis, None)
    if x.data.dtype.kind not in "fc":
        raise TypeError(f"logcumsumexp: expected a floating tensor, got dtype {x.dtype}")
    return _as_shape(LogCumSumExp.apply(x, axis=a), shape)

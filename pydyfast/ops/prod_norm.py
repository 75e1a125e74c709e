"""Reductions beyond reduce.py: prod, vector norms (norm), and the logical all/any.

prod's gradient uses exclusive prefix and suffix products instead of y / x, so zeros in the
input get torch's gradient; norm's gradient at a zero vector is 0, as torch's.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .pointwise import PiecewiseConstant
from .reduce import _as_array, drop_reduced, expand_reduced, reduction_axes
from .scan import one_axis

__all__ = ["prod", "norm", "all", "any"]


def _exclusive_products(xp, x, axis):
    """prod_{k != i} x_k along ``axis`` for every i, without division."""
    n = x.shape[axis]
    ones = xp.ones_like(xp.take(x, [0], axis=axis))
    before = xp.concatenate([ones, xp.cumprod(xp.take(x, range(n - 1), axis=axis), axis)], axis)
    rev = xp.flip(x, axis)
    after = xp.flip(xp.concatenate([ones, xp.cumprod(xp.take(rev, range(n - 1), axis=axis),
                                                     axis)], axis), axis)
    return before * after


class Prod(Function):
    """Product over one axis (``axis``) or over all elements (``axis=None``)."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        xp = array_module(x)
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdims = axis, keepdims
        return _as_array(xp, x.prod(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        xp = array_module(x)
        axes = None if ctx.axis is None else (ctx.axis,)
        g = expand_reduced(gy, x.shape, axes, ctx.keepdims)
        if x.size == 0:
            return xp.zeros_like(x)
        if ctx.axis is None:
            others = _exclusive_products(xp, x.reshape(-1), 0).reshape(x.shape)
        else:
            others = _exclusive_products(xp, x, ctx.axis)
        return g * others


def _check_tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def _single_axis(op, x, dim):
    if dim is None:
        return None
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be one int, got {dim!r}")
    return one_axis(op, x.ndim, dim) if x.ndim else None


def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002  (torch's names)
    """Product of all elements, or along one ``dim``. Integer and bool tensors multiply in
    int64, as torch's."""
    _check_tensor("prod", input)
    axis = _single_axis("prod", input, dim)
    x = input
    if dtype is not None:
        x = x.to(dtype=dtype)
    elif x.data.dtype.kind in "iub":
        x = x.to(dtype=np.int64)
    keep = bool(keepdim) and axis is not None
    if x.data.dtype.kind not in "fc":
        xp = array_module(x.data)
        return Tensor._wrap(_as_array(xp, x.data.prod(axis=axis, keepdims=keep)))
    return Prod.apply(x, axis=axis, keepdims=keep)


class PNorm(Function):
    """(sum |x|^p)^(1/p) over ``axes`` for a finite p > 0; the gradient is
    sign(x) |x|^(p-1) / y^(p-1), and 0 where y is 0."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, p):
        xp = array_module(x)
        a = xp.abs(x)
        if p == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        elif p == 1:
            y = a.sum(axis=axes, keepdims=True)
        else:
            y = (a ** x.dtype.type(p)).sum(axis=axes, keepdims=True) ** x.dtype.type(1 / p)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdims, ctx.p = axes, keepdims, p
        return drop_reduced(xp, y, axes, keepdims)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        xp, p = array_module(x), ctx.p
        g = expand_reduced(gy, x.shape, ctx.axes, ctx.keepdims)
        if p == 1:
            return g * xp.sign(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                scale = x / y
            else:
                one = x.dtype.type(p - 1)
                scale = xp.sign(x) * xp.abs(x) ** one / y ** one
        return g * xp.where(y == 0, x.dtype.type(0), scale)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """Vector p-norm over ``dim`` (all elements when None): p a number > 0, inf (max |x|), -inf
    (min |x|), 0 (count of nonzeros) or 'fro' (2). Matrix norms ('nuc') are not provided."""
    from .elementwise import abs as absolute
    from .reduce import max as maximum, min as minimum, sum as total
    _check_tensor("norm", input)
    x = input if dtype is None else input.to(dtype=dtype)
    if x.data.dtype.kind not in "fc":
        raise TypeError(f"norm: expected a floating tensor, got dtype {x.dtype}")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported; use a number, inf, -inf or 'fro'")
    axes = reduction_axes("norm", x.ndim, dim)
    keep = bool(keepdim)
    if p in (np.inf, -np.inf):
        extreme = maximum if p > 0 else minimum
        return extreme(absolute(x), axis=axes, keepdims=keep)
    if p == 0:
        nonzero = PiecewiseConstant.apply(x, fn=lambda xp, a: (a != 0).astype(a.dtype))
        return total(nonzero, axis=axes, keepdims=keep)  # a count: gradient 0, as torch
    if p < 0:
        raise ValueError(f"norm: p must be positive, inf, -inf or 0, got {p}")
    return PNorm.apply(x, axes=axes, keepdims=keep, p=float(p))


def _logical_reduction(op):
    def f(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
        _check_tensor(op, input)
        axes = reduction_axes(op, input.ndim, dim if axis is None else axis)
        keep = bool(keepdim or keepdims)
        xp = array_module(input.data)
        out = getattr(input.data, op)(axis=axes, keepdims=keep)
        out = _as_array(xp, out)
        if input.data.dtype == np.uint8:  # torch keeps uint8 for uint8 input
            out = out.astype(np.uint8)
        return Tensor._wrap(out)
    f.__name__ = op
    f.__doc__ = (f"Whether {'every' if op == 'all' else 'any'} element is nonzero, over "
                 f"``dim`` (all when None); a bool tensor.")
    return f


all = _logical_reduction("all")  # noqa: A001
any = _logical_reduction("any")  # noqa: A001

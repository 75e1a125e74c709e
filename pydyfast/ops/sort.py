"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, unique.

Every order is total and the same on every path: better values first, a nan counting as the
largest value (as in torch), equal values in their input order. sort and argsort use numpy's
stable argsort; topk and kthvalue select with ``_C``'s topk_indices (a partial sort, O(n log k)
per row) and its reference, the stable argsort cut to k. Values are gathered through
``gather.Gather``, whose gradient scatters back to the chosen positions.
"""
import math

import numpy as np

from ..backend import array_module, dispatch
from ..tensor import Tensor
from .gather import Gather
from .reduce import ValuesIndices, resolve_axes
from .scan import _as_shape, one_axis

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique"]


def _order(x, axis, descending):
    """int64 indices that sort ``x`` along ``axis``, ties in input order either way."""
    xp = array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)
    # sort the reversed array ascending and reverse back: descending, ties still in input order
    n = x.shape[axis]
    rev = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return (n - 1 - xp.flip(rev, axis)).astype(np.int64, copy=False)


def _topk_ref(xp, x, k, largest):
    return _order(x, 1, largest)[:, :k]


def _select(x, axis, k, largest):
    """int64 indices of the ``k`` best elements along ``axis``, best first (the index array
    has ``x``'s shape with ``k`` along ``axis``)."""
    xp = array_module(x)
    moved = xp.moveaxis(x, axis, -1)
    rows = math.prod(moved.shape[:-1])
    lines = xp.ascontiguousarray(moved).reshape(rows, moved.shape[-1])
    idx = dispatch(lines, k, largest, ref=_topk_ref, native="topk_indices")
    return xp.ascontiguousarray(xp.moveaxis(idx.reshape(moved.shape[:-1] + (k,)), -1, axis))


def _prepare(op, x, dim):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.data.dtype.kind == "c":
        raise TypeError(f"{op}: complex tensors have no order, got dtype {x.dtype}")
    if x.ndim == 0:
        resolve_axes(op, 0, dim)
        return x.reshape(1), 0
    return x, one_axis(op, x.ndim, dim)


def _take(x, idx, axis):
    """The values of ``x`` at ``idx`` along ``axis``: differentiable for floating tensors."""
    if x.data.dtype.kind in "fc":
        return Gather.apply(x, index=idx, axis=axis)
    return Tensor._wrap(array_module(idx).take_along_axis(x.data, idx, axis=axis))


def sort(input, dim=-1, descending=False, *, stable=False, axis=None):  # noqa: A002
    """(values, indices) sorted along ``dim``; ties keep their order (``stable`` is always
    honoured). The gradient flows to the positions the values came from."""
    x, a = _prepare("sort", input, dim if axis is None else axis)
    idx = _order(x.data, a, descending)
    values = _take(x, idx, a)
    return ValuesIndices(_as_shape(values, input.shape), Tensor._wrap(idx.reshape(input.shape)))


def argsort(input, dim=-1, descending=False, *, stable=False, axis=None):  # noqa: A002
    """int64 indices that sort ``input`` along ``dim``."""
    x, a = _prepare("argsort", input, dim if axis is None else axis)
    return Tensor._wrap(_order(x.data, a, descending).reshape(input.shape))


def msort(input):  # noqa: A002
    """Values sorted along the first dimension."""
    return sort(input, dim=0).values


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """(values, indices) of the ``k`` largest (or smallest) along ``dim``, best first; ties
    favour the earlier position."""
    x, a = _prepare("topk", input, dim)
    n = x.shape[a]
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dimension {a} of size {n} (shape "
                         f"{input.shape})")
    idx = _select(x.data, a, k, largest)
    values = _take(x, idx, a)
    if input.ndim == 0:
        return ValuesIndices(values.reshape(()), Tensor._wrap(idx.reshape(())))
    return ValuesIndices(values, Tensor._wrap(idx))


def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002
    """(values, indices) of the ``k``-th smallest element (1-based) along ``dim``."""
    x, a = _prepare("kthvalue", input, dim)
    n = x.shape[a]
    if not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k} is out of range for dimension {a} of size {n} "
                         f"(shape {input.shape})")
    idx = _select(x.data, a, k, False)[(slice(None),) * a + (slice(k - 1, k),)]
    idx = array_module(idx).ascontiguousarray(idx)
    values = _take(x, idx, a)
    out_shape = list(x.shape)
    out_shape[a] = 1
    if not keepdim:
        out_shape.pop(a)
    if input.ndim == 0:
        out_shape = []
    return ValuesIndices(values.reshape(tuple(out_shape)), Tensor._wrap(idx.reshape(out_shape)))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values (sorted), and optionally the int64 inverse indices and counts; with
    ``dim``, the distinct slices along it. Not differentiable, as in torch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"unique: expected a Tensor, got {type(input).__name__}")
    xp = array_module(input.data)
    axis = None if dim is None else one_axis("unique", input.ndim, dim)
    values, inverse, counts = xp.unique(input.data, return_inverse=True, return_counts=True,
                                        axis=axis)
    out = [Tensor._wrap(values)]
    if return_inverse:
        shape = input.shape if axis is None else (input.shape[axis],)
        out.append(Tensor._wrap(inverse.reshape(shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)

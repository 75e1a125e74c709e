"""Padding (``pad``: constant, reflect, replicate, circular) and the gather along one axis that
the index-based modes and the resampling ops (``interpolate``) share.

Reflect, replicate and circular padding map every output position of a padded axis to one input
position, so each padded axis is one ``take`` along it; its adjoint sums the output gradient of
all positions that read the same input (``_scatter_add_along``: a stable sort of the indices,
then one ``add.reduceat``), all vectorised, no Python loop over elements. Constant padding is a
copy into a filled array (negative widths crop, as in PyTorch).
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def gather_plan(index):
    """What the adjoint of ``take(x, index, axis)`` needs, computed once on the host: the order
    that groups equal indices, where each group starts, and the input position of each group."""
    index = np.asarray(index, dtype=np.int64)
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]]) \
        if index.size else np.zeros(0, np.int64)
    return order, starts, sorted_index[starts]


def _scatter_add_along(xp, g, axis, size, plan):
    """gx with gx[..., i, ...] = sum of g[..., o, ...] over the o whose index is i (along axis)."""
    order, starts, targets = plan
    shape = g.shape[:axis] + (size,) + g.shape[axis + 1:]
    gx = xp.zeros(shape, dtype=g.dtype)
    if order.size == 0:
        return gx
    grouped = xp.take(g, xp.asarray(order), axis=axis)
    sums = xp.add.reduceat(grouped, xp.asarray(starts), axis=axis)
    gx[(slice(None),) * axis + (xp.asarray(targets),)] = sums
    return gx


class TakeAlong(Function):
    """y = take(x, index, axis): output position o of ``axis`` reads input position index[o]."""

    @staticmethod
    def forward(ctx, x, *, axis, index, plan):
        ctx.axis, ctx.size, ctx.plan = axis, x.shape[axis], plan
        xp = array_module(x)
        return xp.take(x, xp.asarray(index), axis=axis)

    @staticmethod
    def backward(ctx, gy):
        return _scatter_add_along(array_module(gy), gy, ctx.axis, ctx.size, ctx.plan)


def take_along(x, axis, index):
    """``x`` gathered along ``axis`` by the host integer array ``index`` (differentiable)."""
    index = np.asarray(index, dtype=np.int64)
    return TakeAlong.apply(x, axis=axis, index=index, plan=gather_plan(index))


class ConstantPad(Function):
    """y = value everywhere, with the (cropped) input copied into its window."""

    @staticmethod
    def forward(ctx, x, *, out_shape, src, dst, value):
        y = array_module(x).full(out_shape, value, dtype=x.dtype)
        y[dst] = x[src]
        ctx.src, ctx.dst, ctx.in_shape = src, dst, x.shape
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = array_module(gy).zeros(ctx.in_shape, dtype=gy.dtype)
        gx[ctx.src] = gy[ctx.dst]
        return gx


def _pad_index(mode, n, before, after):
    """The input position each of the n + before + after output positions reads."""
    if mode == "circular":  # negative widths crop first; the wrap is within what is left
        crop_before, kept = max(-before, 0), n - max(-before, 0) - max(-after, 0)
        pos = np.arange(-max(before, 0), kept + max(after, 0), dtype=np.int64)
        return crop_before + pos % kept
    pos = np.arange(-before, n + after, dtype=np.int64)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    return (n - 1) - np.abs((n - 1) - np.abs(pos))  # reflect, edge not repeated


def _pad_widths(op, pad, ndim):
    """PyTorch's ``pad`` tuple (last axis first, (before, after) pairs) as {axis: (b, a)}."""
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or \
            not all(isinstance(p, (int, np.integer)) for p in pad):
        raise ValueError(f"{op}: pad must be a tuple of an even number of ints, got {pad!r}")
    if len(pad) // 2 > ndim:
        raise ValueError(f"{op}: pad {tuple(pad)} pads {len(pad) // 2} dimensions, but the input "
                         f"has only {ndim}")
    return {ndim - 1 - i: (int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)}


def _constant_pad(x, widths, value):
    src, dst, out_shape = [], [], []
    for axis, n in enumerate(x.shape):
        before, after = widths.get(axis, (0, 0))
        size = n + before + after
        if size < 0:
            raise ValueError(f"pad: padding {(before, after)} of dimension {axis} gives a "
                             f"negative size {size} for input shape {x.shape}")
        lo, hi = max(-before, 0), n - max(-after, 0)
        src.append(slice(lo, max(hi, lo)))
        start = max(before, 0)
        dst.append(slice(start, start + max(hi - lo, 0)))
        out_shape.append(size)
    return ConstantPad.apply(x, out_shape=tuple(out_shape), src=tuple(src), dst=tuple(dst),
                             value=x.data.dtype.type(value))


def pad(input, pad, mode="constant", value=None):  # noqa: A002  (PyTorch's argument names)
    """Pad the last ``len(pad) // 2`` dimensions, as ``torch.nn.functional.pad``.

    pad = (left_last, right_last, left_second_last, right_second_last, ...). 'constant' fills
    with ``value`` (0 by default; negative widths crop) on any number of dimensions;
    'reflect' mirrors without repeating the edge (width < size), 'replicate' repeats the edge
    (any width), 'circular' wraps around (width <= size). The index modes pad 1 to 3 trailing dimensions of
    a (batched or unbatched) input with at least one more leading dimension.
    """
    op = f"pad(mode={mode!r})"
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {_MODES}, got {mode!r}")
    widths = _pad_widths(op, pad, input.ndim)
    if mode == "constant":
        return _constant_pad(input, widths, 0 if value is None else value)
    if value:
        raise ValueError(f"{op}: padding value {value} is only used by mode='constant'")
    k = len(widths)
    if k > 3 or input.ndim not in (k + 1, k + 2):
        raise ValueError(f"{op}: padding {k} dimension(s) needs a {k + 1}-D or {k + 2}-D input, "
                         f"got shape {input.shape} (pad {tuple(pad)}; at most 3 dimensions)")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype}")
    y = input
    for axis, (before, after) in sorted(widths.items()):
        n = input.shape[axis]
        kept = n - max(-before, 0) - max(-after, 0)  # what negative widths leave
        limit = {"reflect": n - 1, "circular": kept}.get(mode, float("inf"))  # replicate: any
        if max(before, after) > limit or min(n, kept, n + before + after) < 1:
            raise ValueError(f"{op}: padding {(before, after)} of dimension {axis} (size {n}) "
                             f"must be at most {limit}, on a non-empty dimension, and leave a "
                             f"non-empty output (negative widths crop)")
        if before or after:
            y = take_along(y, axis, _pad_index(mode, n, before, after))
    return y

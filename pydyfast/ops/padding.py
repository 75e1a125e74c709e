"""Padding (``pad``: constant, reflect, replicate, circular) and the resampling along one axis
that the index-based modes and ``interpolate`` share.

Reflect, replicate and circular padding map every output position of a padded axis to one input
position, so each padded axis is one ``resample_along`` (K = 1 tap of weight 1); linear
interpolation is the same with K = 2 weighted taps. Its kernel is ``pydyfast._C.resample_fwd``
/ ``resample_bwd`` (csrc/resample.cpp) on x viewed as (outer, n, inner), with the NumPy
references below; the backward sums the gradient of all outputs that read one input. Constant
padding is a copy into a filled array (negative widths crop, as in PyTorch).
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module, dispatch
from ..tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _resample_ref(xp, x, index, weight):
    y = weight[0][None, :, None] * x[:, index[0], :]
    for k in range(1, index.shape[0]):
        y += weight[k][None, :, None] * x[:, index[k], :]
    return y


def _resample_bwd_ref(xp, gy, index, weight, size):
    """Scatter-add by sorting: outputs reading one input become a run, summed by reduceat."""
    outer, m, inner = gy.shape
    gx = xp.zeros((outer, size, inner), dtype=gy.dtype)
    if m == 0:
        return gx
    for k in range(index.shape[0]):
        order = xp.argsort(index[k], kind="stable")
        targets = index[k][order]
        starts = xp.flatnonzero(xp.concatenate([xp.ones(1, bool), targets[1:] != targets[:-1]]))
        contributions = gy[:, order, :] * weight[k][order][None, :, None]
        gx[:, targets[starts], :] += xp.add.reduceat(contributions, starts, axis=1)
    return gx


class Resample(Function):
    """y[..., j, ...] = sum_k weight[k, j] x[..., index[k, j], ...] along ``axis``."""

    @staticmethod
    def forward(ctx, x, *, axis, index, weight):
        xp = array_module(x)
        lead, n, trail = x.shape[:axis], x.shape[axis], x.shape[axis + 1:]
        x3 = x.reshape(int(np.prod(lead)), n, int(np.prod(trail)))
        index, weight = xp.asarray(index), xp.asarray(weight, dtype=x.dtype)
        y = dispatch(x3, index, weight, ref=_resample_ref, native="resample_fwd")
        ctx.index, ctx.weight, ctx.shape, ctx.axis = index, weight, x.shape, axis
        return y.reshape(lead + (index.shape[1],) + trail)

    @staticmethod
    def backward(ctx, gy):
        axis, shape = ctx.axis, ctx.shape
        outer, inner = int(np.prod(shape[:axis])), int(np.prod(shape[axis + 1:]))
        g3 = gy.reshape(outer, gy.shape[axis], inner)
        gx = dispatch(g3, ctx.index, ctx.weight, ref=_resample_bwd_ref, native="resample_bwd",
                      size=shape[axis])
        return gx.reshape(shape)


def resample_along(x, axis, index, weight=None):
    """Output position j of ``axis`` = sum_k weight[k][j] x[index[k][j]] (differentiable in x).

    index: host integers (m,) or (K, m); weight: the same shape, or None for ones."""
    index = np.atleast_2d(np.asarray(index, dtype=np.int64))
    weight = np.ones(index.shape) if weight is None else np.atleast_2d(np.asarray(weight))
    return Resample.apply(x, axis=axis, index=index, weight=weight)


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
    (any width), 'circular' wraps around (width <= size); negative widths crop first. The index
    modes pad 1 to 3 trailing dimensions of a (batched or unbatched) input with at least one
    more leading dimension.
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
            y = resample_along(y, axis, _pad_index(mode, n, before, after))
    return y

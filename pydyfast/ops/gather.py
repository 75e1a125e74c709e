"""Selection by index: gather, scatter, scatter_add, index_select, index_add, take,
masked_select, nonzero, bincount.

gather, scatter_add and index_add (and the gradients that are one of them) run on ``_C``'s
gather family for float32/float64, on the references below otherwise. Arrays are seen as
(outer, n, inner) with the indexed axis in the middle; where torch lets an index be smaller than
the input in the other dimensions, the input is sliced down to it first.
"""
import numpy as np

from ..autograd import Function, fresh_reshape
from ..backend import array_module, dispatch
from ..tensor import Tensor
from .scan import _as_shape, _lines, one_axis

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "take",
           "masked_select", "nonzero", "argwhere", "bincount"]


def _gather_ref(xp, x, idx):
    return xp.take_along_axis(x, idx, axis=1)


def _scatter_add_ref(xp, base, idx, src):
    out = base.copy()
    o = xp.arange(idx.shape[0]).reshape(-1, 1, 1)
    i = xp.arange(idx.shape[2]).reshape(1, 1, -1)
    xp.add.at(out, (o, idx, i), src)  # repeated indices accumulate
    return out


def _index_add_ref(xp, base, idx, src, alpha):
    out = base.copy()
    xp.add.at(out, (slice(None), idx), src * src.dtype.type(alpha))
    return out


def _gather_bwd_ref(xp, gy, idx, n):
    outer, _, inner = idx.shape
    return _scatter_add_ref(xp, xp.zeros((outer, n, inner), gy.dtype), idx, gy)


def _index_select_ref(xp, x, idx):
    return xp.take(x, idx, axis=1)


def _index_select_bwd_ref(xp, gy, idx, n):
    return _index_add_ref(xp, xp.zeros((gy.shape[0], n, gy.shape[2]), gy.dtype), idx, gy, 1.0)


def _region(shape, axis, index_shape):
    """The slices of an array of ``shape`` that an index of ``index_shape`` covers (all of
    ``axis``), or None when it covers every dimension fully."""
    if all(s == i for d, (s, i) in enumerate(zip(shape, index_shape)) if d != axis):
        return None
    return tuple(slice(None) if d == axis else slice(0, i) for d, i in enumerate(index_shape))


def _gather(x, idx, axis):
    """``take_along_axis`` over the region the index covers, on the dispatched kernel."""
    region = _region(x.shape, axis, idx.shape)
    xs = x if region is None else x[region]
    return fresh_reshape(dispatch(_lines(xs, axis), _lines(idx, axis), ref=_gather_ref,
                                   native="gather_fwd"), idx.shape)


def _scatter_add(base, idx, src, axis):
    """``base`` with ``src`` (the index's shape) added at the index along ``axis``."""
    region = _region(base.shape, axis, idx.shape)
    part = base if region is None else base[region]
    out = dispatch(_lines(part, axis), _lines(idx, axis), _lines(src, axis),
                   ref=_scatter_add_ref, native="scatter_add_fwd").reshape(part.shape)
    if region is None:
        return out
    full = base.copy()
    full[region] = out
    return full


def _padded(xp, g, shape):
    """``g`` placed at the start of a zero array of ``shape`` (a src larger than its index)."""
    if g.shape == tuple(shape):
        return g
    full = xp.zeros(shape, g.dtype)
    full[tuple(slice(0, s) for s in g.shape)] = g
    return full


class Gather(Function):
    """y = x gathered along ``axis`` at ``index``; the gradient scatters back, adding up."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.index, ctx.axis, ctx.shape = index, axis, x.shape
        return _gather(x, index, axis)

    @staticmethod
    def backward(ctx, gy):
        # the gradient of the region the index covers (all of it, usually), zeros elsewhere
        n = ctx.shape[ctx.axis]
        g = dispatch(_lines(gy, ctx.axis), _lines(ctx.index, ctx.axis), n, ref=_gather_bwd_ref,
                     native="gather_bwd")
        covered = ctx.index.shape[:ctx.axis] + (n,) + ctx.index.shape[ctx.axis + 1:]
        return _padded(array_module(gy), fresh_reshape(g, covered), ctx.shape)


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, base, src, index, axis):
        ctx.index, ctx.axis, ctx.src_shape = index, axis, src.shape
        return _scatter_add(base, index, src[tuple(slice(0, s) for s in index.shape)], axis)

    @staticmethod
    def backward(ctx, gy):
        need_base, need_src = ctx.needs_input_grad
        g_src = None
        if need_src:
            g_src = _padded(array_module(gy), _gather(gy, ctx.index, ctx.axis), ctx.src_shape)
        return (gy if need_base else None), g_src


class Scatter(Function):
    """``base`` with ``src`` written at the index; where an index repeats, one write wins (torch
    leaves which one unspecified). The gradient of base is 0 at written positions."""

    @staticmethod
    def forward(ctx, base, src, index, axis):
        xp = array_module(base)
        ctx.index, ctx.axis, ctx.src_shape = index, axis, src.shape
        out = base.copy()
        region = _region(base.shape, axis, index.shape) or Ellipsis
        xp.put_along_axis(out[region], index, src[tuple(slice(0, s) for s in index.shape)], axis)
        return out

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        need_base, need_src = ctx.needs_input_grad
        region = _region(gy.shape, ctx.axis, ctx.index.shape) or Ellipsis
        g_base = g_src = None
        if need_base:
            g_base = gy.copy()
            xp.put_along_axis(g_base[region], ctx.index, gy.dtype.type(0), ctx.axis)
        if need_src:
            g_src = _padded(xp, _gather(gy, ctx.index, ctx.axis), ctx.src_shape)
        return g_base, g_src


class IndexSelect(Function):
    """y = the slices ``index`` of x along ``axis``; the gradient adds them back (index_add
    into zeros, one compiled pass)."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.index, ctx.axis, ctx.shape = index, axis, x.shape
        y = dispatch(_lines(x, axis), index, ref=_index_select_ref, native="index_select_fwd")
        return y.reshape(x.shape[:axis] + index.shape + x.shape[axis + 1:])

    @staticmethod
    def backward(ctx, gy):
        return index_select_grad(gy, ctx.index, ctx.shape, ctx.axis)


def index_select_grad(gy, index, shape, axis):
    """The gradient of picking the slices ``index`` of an array of ``shape`` along ``axis``:
    gy's slices added back into zeros in one compiled pass (Embedding's backward too)."""
    gx = dispatch(_lines(gy, axis), index, shape[axis], ref=_index_select_bwd_ref,
                  native="index_select_bwd")
    return fresh_reshape(gx, shape)


def _index_add(base, index, src, axis, alpha):
    return dispatch(_lines(base, axis), index, _lines(src, axis), alpha, ref=_index_add_ref,
                    native="index_add_fwd").reshape(base.shape)


class IndexAdd(Function):
    @staticmethod
    def forward(ctx, base, src, index, axis, alpha):
        ctx.index, ctx.axis, ctx.alpha = index, axis, alpha
        return _index_add(base, index, src, axis, alpha)

    @staticmethod
    def backward(ctx, gy):
        need_base, need_src = ctx.needs_input_grad
        g_src = None
        if need_src:
            g_src = array_module(gy).take(gy, ctx.index, axis=ctx.axis)
            if ctx.alpha != 1:
                g_src = g_src * gy.dtype.type(ctx.alpha)
        return (gy if need_base else None), g_src


def _check_tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def _index_array(op, index, like, n=None, allow_negative=False):
    """``index`` as an int64 array on the device of ``like``; with ``n``, every value checked to
    lie in [0, n) (or [-n, n) with negatives wrapped, where torch allows them)."""
    xp = array_module(like.data)
    data = index.data if isinstance(index, Tensor) else index
    if not hasattr(data, "dtype"):
        data = np.asarray(data)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected an integer index, got dtype {data.dtype}")
    data = xp.asarray(data).astype(np.int64, copy=False)
    if n is not None and data.size:
        low, high = int(data.min()), int(data.max())
        if high >= n or low < (-n if allow_negative else 0):
            bad = high if high >= n else low
            raise IndexError(f"{op}: index {bad} is out of range for a dimension of size {n} "
                             f"(tensor of shape {like.shape})")
        if allow_negative and low < 0:
            data = xp.where(data < 0, data + n, data)
    return data


def _along(op, x, dim, index, src_shape=None):
    """Axis and checked index for gather/scatter: one ndim, and the index no larger than the
    input outside ``dim`` (nor than src anywhere)."""
    _check_tensor(op, x)
    axis = one_axis(op, x.ndim, dim)
    idx = _index_array(op, index, x)
    if idx.ndim != max(x.ndim, 1) and not (x.ndim == 0 and idx.ndim == 0):
        raise ValueError(f"{op}: index of shape {idx.shape} must have as many dimensions as "
                         f"the input {x.shape}")
    shape = x.shape or (1,)
    idx = idx.reshape(idx.shape or (1,))
    too_big = any(i > s for d, (i, s) in enumerate(zip(idx.shape, shape)) if d != axis)
    if too_big or (src_shape is not None and any(i > s for i, s in zip(idx.shape, src_shape))):
        raise ValueError(f"{op}: index of shape {idx.shape} is larger than the input {x.shape}"
                         + (f" or src {src_shape}" if src_shape is not None else "")
                         + f" outside dim {axis}")
    return axis, _index_array(op, idx, x, shape[axis])


def gather(input, dim, index, *, sparse_grad=False):  # noqa: A002  (torch's argument names)
    """out[i][j][k] = input[i][index[i][j][k]][k] for dim=1 (any dim alike); out has the
    index's shape."""
    axis, idx = _along("gather", input, dim, index)
    x = input if input.ndim else input.reshape(1)
    out = Gather.apply(x, index=idx, axis=axis)
    return out.reshape(()) if input.ndim == 0 else out


def _scatter_operands(op, input, dim, index, src, value):
    if (src is None) == (value is None):
        raise TypeError(f"{op}: pass exactly one of src (a tensor) and value (a number)")
    if src is None:
        index_shape = np.shape(index.data if isinstance(index, Tensor) else index)
        src = Tensor._wrap(array_module(input.data).full(index_shape or (1,), value, input.dtype))
    if src.dtype != input.dtype:
        raise TypeError(f"{op}: expected src of the input's dtype {input.dtype}, got {src.dtype}")
    axis, idx = _along(op, input, dim, index, src.shape or (1,))
    if input.ndim == 0:
        input, src = input.reshape(1), src.reshape(1)
    return input, src, idx, axis


def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """A copy of ``input`` with ``src`` (a tensor, or ``value``) written at ``index`` along
    ``dim``; ``reduce='add'`` is scatter_add."""
    _check_tensor("scatter", input)
    if reduce is not None and reduce != "add":
        raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r}")
    if isinstance(src, (int, float)) and value is None:
        src, value = None, src
    x, s, idx, axis = _scatter_operands("scatter", input, dim, index, src, value)
    fn = ScatterAdd if reduce == "add" else Scatter
    return _as_shape(fn.apply(x, s, index=idx, axis=axis), input.shape)


def scatter_add(input, dim, index, src):  # noqa: A002
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``; repeats accumulate."""
    _check_tensor("scatter_add", input)
    x, s, idx, axis = _scatter_operands("scatter_add", input, dim, index, src, None)
    return _as_shape(ScatterAdd.apply(x, s, index=idx, axis=axis), input.shape)


def _index_vector(op, x, dim, index):
    _check_tensor(op, x)
    axis = one_axis(op, x.ndim, dim)
    n = x.shape[axis] if x.ndim else 1
    idx = _index_array(op, index, x, n, allow_negative=False)
    if idx.ndim > 1:
        raise ValueError(f"{op}: expected a 1-d index, got shape {idx.shape}")
    return axis, idx.reshape(-1)


def index_select(input, dim, index):  # noqa: A002
    """The slices ``index`` (1-d) of ``input`` along ``dim``, in that order."""
    axis, idx = _index_vector("index_select", input, dim, index)
    x = input if input.ndim else input.reshape(1)
    out = IndexSelect.apply(x, index=idx, axis=axis)
    return out.reshape(()) if input.ndim == 0 else out


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    """A copy of ``input`` with ``alpha * source[..., j, ...]`` added to slice ``index[j]``
    along ``dim``; repeated indices accumulate."""
    axis, idx = _index_vector("index_add", input, dim, index)
    _check_tensor("index_add", source)
    if source.dtype != input.dtype:
        raise TypeError(f"index_add: expected source of the input's dtype {input.dtype}, got "
                        f"{source.dtype}")
    x = input if input.ndim else input.reshape(1)
    src = source if source.ndim else source.reshape(1)
    expected = x.shape[:axis] + (idx.shape[0],) + x.shape[axis + 1:]
    if src.shape != expected:
        raise ValueError(f"index_add: source of shape {source.shape} should have shape "
                         f"{expected} for input {input.shape}, dim {dim} and {idx.shape[0]} "
                         f"indices")
    if x.data.dtype.kind not in "fc":
        out = _index_add_ref(array_module(x.data), _lines(x.data, axis), idx,
                             _lines(src.data, axis), alpha)
        return Tensor._wrap(out.reshape(input.shape))
    return _as_shape(IndexAdd.apply(x, src, index=idx, axis=axis, alpha=alpha), input.shape)


def take(input, index):  # noqa: A002
    """``input`` read as 1-d at ``index`` (negatives count from the end); the index's shape."""
    _check_tensor("take", input)
    idx = _index_array("take", index, input, input.numel(), allow_negative=True)
    flat = IndexSelect.apply(input.reshape(-1), index=idx.reshape(-1), axis=0)
    return _as_shape(flat, idx.shape)


def masked_select(input, mask):  # noqa: A002
    """The elements of ``input`` where the (broadcastable) bool ``mask`` is True, as 1-d."""
    from .index import getitem
    from .shape import broadcast_to
    _check_tensor("masked_select", input)
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be boolean, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise ValueError(f"masked_select: mask of shape {m.shape} does not broadcast with the "
                         f"input's shape {input.shape}") from None
    xp = array_module(input.data)
    x = input if input.shape == shape else broadcast_to(input, shape)
    return getitem(x, xp.broadcast_to(xp.asarray(m), shape))


def nonzero(input, *, as_tuple=False):  # noqa: A002
    """Indices of the nonzero elements: an int64 (count, ndim) tensor, or with ``as_tuple`` one
    1-d tensor per dimension."""
    _check_tensor("nonzero", input)
    xp = array_module(input.data)
    coords = xp.nonzero(input.data) if input.ndim else xp.nonzero(input.data.reshape(1))
    coords = [c.astype(np.int64) for c in coords]
    if as_tuple:
        return tuple(Tensor._wrap(c) for c in coords)
    if input.ndim == 0:
        return Tensor._wrap(xp.zeros((len(coords[0]), 0), np.int64))
    return Tensor._wrap(xp.stack(coords, axis=1) if coords else xp.zeros((0, 0), np.int64))


def argwhere(input):  # noqa: A002
    """``nonzero(input)``: an int64 (count, ndim) tensor."""
    return nonzero(input)


def bincount(input, weights=None, minlength=0):  # noqa: A002
    """Counts of each value of a 1-d non-negative integer tensor (int64), or the sums of
    ``weights`` per value (in the weights' dtype); length max(input) + 1 or ``minlength``."""
    _check_tensor("bincount", input)
    if input.ndim != 1 or input.data.dtype.kind not in "iu":
        raise ValueError(f"bincount: expected a 1-d integer tensor, got shape {input.shape} "
                         f"and dtype {input.dtype}")
    if input.numel() and int(input.data.min()) < 0:
        raise ValueError("bincount: the input must be non-negative")
    xp = array_module(input.data)
    if weights is None:
        return Tensor._wrap(xp.bincount(input.data, minlength=minlength).astype(np.int64))
    w = weights.data if isinstance(weights, Tensor) else np.asarray(weights)
    if w.shape != input.shape:
        raise ValueError(f"bincount: weights of shape {w.shape} must match the input "
                         f"{input.shape}")
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return Tensor._wrap(xp.bincount(input.data, weights=w, minlength=minlength).astype(dtype))

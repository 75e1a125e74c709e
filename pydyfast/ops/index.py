"""Indexing (``x[key]``) and in-place writes (``x[key] = value``, ``x += y``) with torch's
autograd semantics: views share their base's version counter, and a write into a tensor of a
recorded graph is recorded too (the tensor moves onto the write's node, as in torch)."""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..backend import engine as _engine
from ..tensor import Tensor
from .promotion import constant


def normalize_key(key, xp):
    """A key numpy/cupy understands: Tensors and lists become arrays on the data's device."""
    if isinstance(key, tuple):
        return tuple(_normalize_one(k, xp) for k in key)
    return _normalize_one(key, xp)


def _normalize_one(k, xp):
    if isinstance(k, Tensor):
        k = k.data
    elif isinstance(k, list):
        k = np.asarray(k)
    if hasattr(k, "dtype"):
        if k.dtype.kind not in "iub":
            raise IndexError(f"index arrays must be integer or boolean, got dtype {k.dtype}")
        if xp is not np and type(k) is np.ndarray:
            k = xp.asarray(k)
    return k


def _is_int(k):
    return isinstance(k, (int, np.integer)) and not isinstance(k, bool)


def split_int_first(key, ndim):
    """torch applies integer indices before index arrays (``x[0, :, [1, 2]]`` has shape
    (x.shape[1], 2); numpy would move the array's axis first). For a key that mixes both,
    returns (the integers with slices elsewhere, the rest of the key); otherwise None."""
    parts = key if isinstance(key, tuple) else (key,)
    if not (any(_is_int(k) for k in parts) and any(hasattr(k, "dtype") for k in parts)):
        return None
    used = sum(1 if not hasattr(k, "dtype") else k.ndim if k.dtype == np.bool_ else 1
               for k in parts if k is not None and k is not Ellipsis)
    ints, rest = [], []
    for k in parts:
        if k is Ellipsis:
            ints.extend([slice(None)] * (ndim - used))
            rest.append(k)
        elif k is None:
            rest.append(k)
        elif _is_int(k):
            ints.append(k)
        else:
            width = k.ndim if hasattr(k, "dtype") and k.dtype == np.bool_ else 1
            ints.extend([slice(None)] * width)
            rest.append(k)
    return tuple(ints), tuple(rest)


def _has_repeats_possible(key):
    parts = key if isinstance(key, tuple) else (key,)
    return any(hasattr(k, "dtype") and k.dtype.kind in "iu" for k in parts)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        out = x[key]
        xp = array_module(x)
        return xp.asarray(out) if xp is np and not isinstance(out, np.ndarray) else out

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        g = xp.zeros(ctx.shape, ctx.dtype)
        if _has_repeats_possible(ctx.key):
            xp.add.at(g, ctx.key, gy)  # repeated indices accumulate
        else:
            g[ctx.key] = gy
        return g


def _getitem(x, key):
    if not x.requires_grad:  # no graph: plain indexing, one array copy at most
        out = x.data[key]
        out = Tensor._wrap(np.asarray(out) if type(x.data) is np.ndarray
                           and not isinstance(out, np.ndarray) else out)
    else:
        out = GetItem.apply(x, key=key)
    return _engine.mark_view(out, x)


def getitem(x, key):
    key = normalize_key(key, array_module(x.data))
    try:
        split = split_int_first(key, x.ndim)
        if split is not None:
            return _getitem(_getitem(x, split[0]), split[1])
        return _getitem(x, key)
    except IndexError as exc:
        raise IndexError(f"getitem: {exc} (tensor of shape {x.shape})") from None


class SetItem(Function):
    """``x[key] = value`` as a recorded op. Backward needs neither x's nor value's values, so
    forward writes into x's own array (the memory the in-place write targets anyway)."""

    @staticmethod
    def forward(ctx, x, value, key):
        ctx.key, ctx.value_shape = key, value.shape
        x[key] = value
        return x

    @staticmethod
    def backward(ctx, gy):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = gy.copy()
            gx[ctx.key] = 0
        if ctx.needs_input_grad[1]:
            gv = gy[ctx.key]
            gv = array_module(gy).asarray(gv)
            if gv.ndim < len(ctx.value_shape):  # numpy drops a value's leading size-1 axes
                gv = gv.reshape((1,) * (len(ctx.value_shape) - gv.ndim) + gv.shape)
        return gx, gv


def setitem(x, key, value):
    """``x[key] = value`` in place; inside a recorded graph it is recorded (torch's gradient:
    zero for the overwritten part of x, the selected gradient for value)."""
    xp = array_module(x.data)
    v = value.data if isinstance(value, Tensor) else value
    if type(v) is not type(x.data) and hasattr(v, "__cuda_array_interface__") != (xp is not np):
        raise RuntimeError(f"setitem: value is on another device than the tensor ({x.device})")
    key = normalize_key(key, xp)
    split = split_int_first(key, x.ndim)
    if split is not None:  # torch's order: the integers select first, the arrays index that view
        target = getitem(x, split[0])
        if not in_graph(target, isinstance(value, Tensor) and value.requires_grad):
            x.data[split[0]][split[1]] = v
            _engine.note_inplace(x)
            return
        return setitem(x, split[0], _with_item(target, split[1], value))

    def record(snapshot):
        val = value if isinstance(value, Tensor) else constant(value, x, "setitem")
        return SetItem.apply(snapshot, val, key=key)

    def write():
        x.data[key] = v
    try:
        write_inplace(x, "setitem", isinstance(value, Tensor) and value.requires_grad, record,
                      write)
    except IndexError as exc:
        raise IndexError(f"setitem: {exc} (tensor of shape {x.shape})") from None


def _with_item(t, key, value):
    """An out-of-place copy of ``t`` with ``t[key] = value`` (for keys split in two steps)."""
    out = t.clone()
    setitem(out, key, value)
    return out


def in_graph(x, value_requires_grad):
    """Whether a write into ``x`` must be recorded: grad mode is on and x or the written value
    requires grad."""
    return _engine.is_grad_enabled() and (x.requires_grad or value_requires_grad)


def write_inplace(x, op, value_requires_grad, record, write):
    """The one path of every in-place write into a Tensor (operators, ``x[k] = v``, the ``_``
    methods); returns x.

    Outside a graph ``write()`` modifies ``x.data`` and x's version (shared with its views) is
    bumped, so every node that saved x's memory refuses to run backward on the new values.
    Inside a graph (torch's semantics) ``record(snapshot)`` computes the result out of place
    from a snapshot that keeps x's history (nodes that saved the snapshot's values get a copy
    before the write), the result is stored in x's memory and x moves onto the result's node,
    so aliases of x see the new value and its gradient. A write into a view is recorded on its
    base (``ViewWrite``, as torch's CopySlices), and the view becomes that region of the new
    base.
    """
    if not in_graph(x, value_requires_grad):
        write()
        _engine.note_inplace(x)
        return x
    if x.requires_grad and x.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in place "
                           f"while grad mode is on; wrap the update in `with no_grad():` or "
                           f"modify `.data`")
    base = x._base
    region = None
    if base is not None:
        if base.requires_grad and base.grad_fn is None:
            raise RuntimeError(f"{op}: a view of a leaf tensor that requires grad cannot be "
                               f"modified in place while grad mode is on")
        region = Region.of_view(x.data, base.data)
        if region is None:
            raise RuntimeError(f"{op}: writing into a view (shape {x.shape}) of a non-contiguous "
                               f"tensor of a recorded graph is not supported; index the base "
                               f"tensor instead (base[key] = value)")
    snapshot = _snapshot(x, x.data)
    result = record(snapshot)
    if result.data is not x.data and (
            result.shape != x.shape or not np.can_cast(result.dtype, x.dtype, "same_kind")):
        raise RuntimeError(f"{op}: the result ({result.dtype}, shape {result.shape}) cannot "
                           f"be stored in place in a tensor of {x.dtype} and shape {x.shape}")
    _keep_snapshot_values(result, snapshot)
    if region is None:
        if result.data is not x.data:
            x.data[...] = result.data
        _engine.note_inplace(x)
        _move_onto(x, result, snapshot)
        return x
    base_snapshot = _snapshot(base, base.data)
    written = ViewWrite.apply(base_snapshot, result, region=region)  # fills x's memory too
    _engine.note_inplace(base)
    _move_onto(base, written, base_snapshot)
    _move_onto(x, _engine.mark_view(TakeView.apply(base, region=region), base), snapshot)
    return x


def _snapshot(t, data):
    """A handle on ``t`` as it is before a recorded write: its history, and its version now."""
    snapshot = Tensor._wrap(data, t.requires_grad)
    snapshot.grad_fn, snapshot._output_nr = t.grad_fn, t._output_nr
    snapshot._version_counter = [t._version_counter[0]]
    return snapshot


def _keep_snapshot_values(result, snapshot):
    """The nodes that computed ``result`` (the last few, back to the snapshot) keep copies of
    any saved reference to the snapshot's array, which the write is about to overwrite."""
    stack, depth = [result.grad_fn], 0
    while stack and depth < 4:  # an update is one op, maybe a cast after it
        nodes, stack = stack, []
        for node in nodes:
            _engine.keep_saved_values(node, snapshot.data)
            stack += [t.grad_fn for t in node.inputs if t is not snapshot and t.grad_fn]
        depth += 1


def _move_onto(t, result, snapshot):
    """``t`` (its memory already written) becomes the output of ``result``'s node; nodes that
    used ``t`` before the write follow ``rebased`` back to the snapshot (engine._source_of). A
    retained gradient follows the tensor to its new node."""
    node = result.grad_fn
    node.rebased = (snapshot, t._version_counter[0], t._version_counter)
    retained = t._retains_grad
    if retained:
        old = t.grad_fn
        old.retained = [(ref, k) for ref, k in old.retained if ref() is not t] or None
        t._retains_grad = False
    t.grad_fn, t._output_nr, t.requires_grad = node, result._output_nr, True
    if retained:
        t.retain_grad()


class Region:
    """Where a view lies in a C-contiguous base: element offset, shape and element strides, so
    that the same region can be taken from any C-contiguous array of the base's shape (the
    base's gradient)."""

    __slots__ = ("offset", "shape", "strides")

    def __init__(self, offset, shape, strides):
        self.offset, self.shape, self.strides = offset, shape, strides

    @classmethod
    def of_view(cls, view, base):
        """The region of ``view`` in ``base``, or None when base is not C-contiguous."""
        if not base.flags.c_contiguous:
            return None
        size = base.itemsize
        offset = _address(view) - _address(base)
        if offset % size or any(s % size for s in view.strides):
            return None
        return cls(offset // size, view.shape, tuple(s // size for s in view.strides))

    def take(self, array):
        """The region as a view of the C-contiguous ``array``."""
        xp = array_module(array)
        flat = array.reshape(-1)[self.offset:]
        return xp.lib.stride_tricks.as_strided(
            flat, self.shape, tuple(s * array.itemsize for s in self.strides))


def _address(a):
    return a.__array_interface__["data"][0] if type(a) is np.ndarray else a.data.ptr


class ViewWrite(Function):
    """The base with a view's region replaced by ``value``: a write through a view, recorded
    on its base. Forward writes into the base's own array (the memory the write targets);
    backward sends the region's gradient to value and the rest to the old base."""

    @staticmethod
    def forward(ctx, base, value, region):
        ctx.region = region
        region.take(base)[...] = value
        return base

    @staticmethod
    def backward(ctx, gy):
        g = array_module(gy).array(gy, order="C", copy=True)
        region = ctx.region.take(g)
        gv = region.copy() if ctx.needs_input_grad[1] else None
        region[...] = 0
        return (g if ctx.needs_input_grad[0] else None), gv


class TakeView(Function):
    """A region of the base (a view written in place, re-derived from its new base)."""

    @staticmethod
    def forward(ctx, base, region):
        ctx.region, ctx.shape = region, base.shape
        return region.take(base)

    @staticmethod
    def backward(ctx, gy):
        g = array_module(gy).zeros(ctx.shape, gy.dtype)
        ctx.region.take(g)[...] = gy
        return g


class Overwrite(Function):
    """``value`` broadcast to ``x``'s shape and cast to its dtype: the new contents of a
    ``fill_``/``copy_``. x's old values do not matter, so its gradient is zero."""

    @staticmethod
    def forward(ctx, x, value):
        xp = array_module(x)
        return xp.broadcast_to(value.astype(x.dtype, copy=False), x.shape).copy()

    @staticmethod
    def backward(ctx, gy):
        gx = array_module(gy).zeros_like(gy) if ctx.needs_input_grad[0] else None
        return gx, gy  # the engine sums gy back to value's shape and dtype

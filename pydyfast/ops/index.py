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
        if not in_graph(target, value):
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
        write_inplace(x, "setitem", value, record, write, view_rebinds=False)
    except IndexError as exc:
        raise IndexError(f"setitem: {exc} (tensor of shape {x.shape})") from None


def _with_item(t, key, value):
    """An out-of-place copy of ``t`` with ``t[key] = value`` (for keys split in two steps)."""
    out = t.clone()
    setitem(out, key, value)
    return out


def in_graph(x, other=None):
    """Whether writing ``other`` into ``x`` must be recorded: grad mode is on and either
    requires grad."""
    return _engine.is_grad_enabled() and (
        x.requires_grad or (isinstance(other, Tensor) and other.requires_grad))


def write_inplace(x, op, other, record, write, saves_self=False, view_rebinds=True):
    """The one path of every in-place write into a Tensor. Returns the tensor the caller binds.

    Outside a graph ``write()`` modifies ``x.data`` and x's version (shared with its views) is
    bumped, so every node that saved x's memory refuses to run backward on the new values.
    Inside a graph (torch's semantics) ``record(snapshot)`` computes the result out of place
    from a snapshot that keeps x's history (a copy when the op saves it, ``saves_self``), the
    result is stored in x's memory and x moves onto the result's node, so aliases of x see the
    new value and its gradient. A view in a graph cannot move its base's history, so
    ``x += y`` on one binds the out-of-place result (``view_rebinds``) and ``view[k] = v`` raises.
    """
    if not in_graph(x, other):
        write()
        _engine.note_inplace(x)
        return x
    if x.requires_grad and x.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in place "
                           f"while grad mode is on; wrap the update in `with no_grad():` or "
                           f"modify `.data`")
    base = x._base
    if base is not None:
        if base.requires_grad and base.grad_fn is None:
            raise RuntimeError(f"{op}: a view of a leaf tensor that requires grad cannot be "
                               f"modified in place while grad mode is on")
        if view_rebinds:
            return record(x)
        raise RuntimeError(f"{op}: writing into a view (shape {x.shape}) of a tensor of a "
                           f"recorded graph is not supported; index the base tensor instead "
                           f"(base[key] = value)")
    snapshot = Tensor._wrap(x.data.copy() if saves_self else x.data, x.requires_grad)
    snapshot.grad_fn, snapshot._output_nr = x.grad_fn, x._output_nr
    result = record(snapshot)
    if result.data is not x.data:
        if result.shape != x.shape or not np.can_cast(result.dtype, x.dtype, "same_kind"):
            raise RuntimeError(f"{op}: the result ({result.dtype}, shape {result.shape}) cannot "
                               f"be stored in place in a tensor of {x.dtype} and shape {x.shape}")
        x.data[...] = result.data
    _engine.note_inplace(x)
    node = result.grad_fn
    node.rebased = (snapshot, x._version_counter[0], x._version_counter)
    x.grad_fn, x._output_nr, x.requires_grad = node, result._output_nr, True
    return x

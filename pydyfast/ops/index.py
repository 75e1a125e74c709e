"""Indexing: ``x[key]`` with gradients, and ``x[key] = value`` outside autograd."""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from ..backend import engine as _engine


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


def getitem(x, key):
    xp = array_module(x.data)
    key = normalize_key(key, xp)
    try:
        if not x.requires_grad:  # no graph: plain indexing, one array copy at most
            out = x.data[key]
            return Tensor._wrap(xp.asarray(out) if xp is np and not isinstance(out, np.ndarray)
                                else out)
        return GetItem.apply(x, key=key)
    except IndexError as exc:
        raise IndexError(f"getitem: {exc} (tensor of shape {x.shape})") from None


def setitem(x, key, value):
    """``x[key] = value`` in place. Not recorded by autograd, so it refuses tensors that a
    recorded graph depends on."""
    value_requires = isinstance(value, Tensor) and value.requires_grad
    check_inplace(x, "setitem", value_requires)
    xp = array_module(x.data)
    v = value.data if isinstance(value, Tensor) else value
    if type(v) is not type(x.data) and hasattr(v, "__cuda_array_interface__") != (xp is not np):
        raise RuntimeError(f"setitem: value is on another device than the tensor ({x.device})")
    x.data[normalize_key(key, xp)] = v
    x._version += 1
    _engine.note_inplace()


def check_inplace(x, op, other_requires_grad=False):
    """Raise if modifying ``x`` in place would silently corrupt a gradient."""
    grad_on = _engine.is_grad_enabled()
    if grad_on and x.requires_grad and x.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in place "
                           f"while grad mode is on; wrap the update in `with no_grad():` or "
                           f"modify `.data`")
    if x.grad_fn is not None:
        raise RuntimeError(f"{op}: this tensor was produced by a recorded operation, and "
                           f"modifying it in place would change values its backward needs; "
                           f"use an out-of-place operation or detach() it first")
    if grad_on and other_requires_grad:
        raise RuntimeError(f"{op}: in-place operations are not recorded by autograd, but the "
                           f"value requires grad; use an out-of-place operation")

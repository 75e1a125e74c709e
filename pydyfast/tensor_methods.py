"""Operator and method bindings of Tensor (``x + y``, ``x.sum()``, ``x[i]``, ``x += 1``)."""
import numpy as np

from .ops import elementwise as E, index as I, linalg as L, reduce as R, shape as S
from .ops import softmax as SM, special as SP
from .tensor import Tensor


def _reflect(fn):
    def reflected(self, other):
        return fn(other, self)
    return reflected


def _compare(ufunc, name):
    def method(self, other):
        a, b = E.operands(self, other, name)
        return Tensor._wrap(ufunc(a.data, b.data))
    method.__name__ = name
    return method


def _inplace(name, ufunc, out_of_place):
    """``x op= y`` in place, with torch's semantics inside a graph (see index.write_inplace)."""

    def method(self, other):
        def record(snapshot):
            return out_of_place(snapshot, other)

        def write():
            _, b = E.operands(self, other, name)
            try:
                ufunc(self.data, b.data, out=self.data)
            except TypeError as exc:  # e.g. an int64 tensor /= 2
                raise TypeError(f"{name}: cannot store the result in a tensor of dtype "
                                f"{self.dtype} in place ({exc})") from None
            except ValueError:
                raise ValueError(f"{name}: a value of shape {b.shape} does not broadcast to "
                                 f"the tensor's shape {self.shape} in place") from None
        return I.write_inplace(self, name, isinstance(other, Tensor) and other.requires_grad,
                               record, write)
    method.__name__ = name
    return method


_bindings = {
    "__add__": E.add, "__radd__": _reflect(E.add),
    "__sub__": E.sub, "__rsub__": _reflect(E.sub),
    "__mul__": E.mul, "__rmul__": _reflect(E.mul),
    "__truediv__": E.div, "__rtruediv__": _reflect(E.div),
    "__pow__": E.pow, "__rpow__": _reflect(E.pow),
    "__matmul__": L.matmul, "__rmatmul__": _reflect(L.matmul),
    "__neg__": E.neg, "__abs__": E.abs, "__pos__": lambda self: self,
    "__iadd__": _inplace("__iadd__", np.add, E.add),
    "__isub__": _inplace("__isub__", np.subtract, E.sub),
    "__imul__": _inplace("__imul__", np.multiply, E.mul),
    "__itruediv__": _inplace("__itruediv__", np.true_divide, E.div),
    "__lt__": _compare(np.less, "lt"), "__le__": _compare(np.less_equal, "le"),
    "__gt__": _compare(np.greater, "gt"), "__ge__": _compare(np.greater_equal, "ge"),
    "__eq__": _compare(np.equal, "eq"), "__ne__": _compare(np.not_equal, "ne"),
    "__getitem__": I.getitem, "__setitem__": I.setitem,
    "add": E.add, "sub": E.sub, "mul": E.mul, "div": E.div, "pow": E.pow, "matmul": L.matmul,
    "neg": E.neg, "abs": E.abs, "exp": E.exp, "log": E.log, "sqrt": E.sqrt, "square": E.square,
    "sin": E.sin, "cos": E.cos, "tanh": E.tanh, "sigmoid": E.sigmoid, "relu": E.relu,
    "clip": E.clip, "clamp": E.clip, "maximum": E.maximum, "minimum": E.minimum,
    "masked_fill": E.masked_fill,
    "sum": R.sum, "mean": R.mean, "max": R.max, "min": R.min, "var": R.var, "std": R.std,
    "logsumexp": R.logsumexp, "argmax": R.argmax, "argmin": R.argmin,
    "reshape": S.reshape, "flatten": S.flatten, "transpose": S.transpose,
    "permute": S.permute, "swapaxes": S.swapaxes, "squeeze": S.squeeze,
    "unsqueeze": S.unsqueeze, "expand": S.expand, "broadcast_to": S.broadcast_to,
    "split": S.split, "chunk": S.chunk, "unbind": S.unbind, "tensor_split": S.tensor_split,
    "amax": R.amax, "amin": R.amin, "median": R.median,
    "softmax": lambda self, dim=-1: SM.softmax(self, dim),
    "log_softmax": lambda self, dim=-1: SM.log_softmax(self, dim),
    "erf": SP.erf,
    "eq": _compare(np.equal, "eq"), "ne": _compare(np.not_equal, "ne"),
    "lt": _compare(np.less, "lt"), "le": _compare(np.less_equal, "le"),
    "gt": _compare(np.greater, "gt"), "ge": _compare(np.greater_equal, "ge"),
}
for _name, _fn in _bindings.items():
    setattr(Tensor, _name, _fn)


def _surface_methods():
    """The op surface as methods (``x.cumsum(0)``, ``x.topk(3)``) and its operators
    (``%``, ``//``, ``& | ^ ~``, ``<<``, ``>>``)."""
    from . import functional as F
    not_methods = {"einsum", "meshgrid", "tensordot"}  # their first argument is not a tensor
    for name in F.SURFACE:
        if name not in not_methods:
            setattr(Tensor, name, getattr(F, name))
    operators = {"mod": F.remainder, "floordiv": F.floor_divide, "and": F.bitwise_and,
                 "or": F.bitwise_or, "xor": F.bitwise_xor, "lshift": F.bitwise_left_shift,
                 "rshift": F.bitwise_right_shift}
    for name, fn in operators.items():
        setattr(Tensor, f"__{name}__", fn)
        setattr(Tensor, f"__r{name}__", _reflect(fn))
    Tensor.__invert__ = F.bitwise_not
    Tensor.clamp_min, Tensor.clamp_max = F.clamp_min, F.clamp_max


_surface_methods()


# numpy ufuncs meeting a Tensor: ``ndarray + Tensor`` and ``np.float32(2) * t`` are the
# Tensor's operators (a Tensor, with gradients); anything else (``np.exp(t)``, the in-place
# ``w.data -= lr * w.grad``, ``np.allclose(t, y)``) is numpy's own on the Tensors' arrays, as
# for torch's tensors (``__array__`` refuses a tensor that requires grad).
_UFUNC_OPERATORS = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
    np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    names = _UFUNC_OPERATORS.get(ufunc)
    if names is not None and method == "__call__" and not kwargs and len(inputs) == 2:
        a, b = inputs
        return getattr(a, names[0])(b) if isinstance(a, Tensor) else getattr(b, names[1])(a)
    arrays = [np.asarray(x) if isinstance(x, Tensor) else x for x in inputs]
    if "out" in kwargs:
        kwargs["out"] = tuple(np.asarray(x) if isinstance(x, Tensor) else x
                              for x in kwargs["out"])
    return getattr(ufunc, method)(*arrays, **kwargs)


Tensor.__array_ufunc__ = _array_ufunc


# torch's plumbing (view/view(dtype), clone, contiguous, new_*, ...) and in-place `_` methods
from . import tensor_inplace, tensor_plumbing  # noqa: E402

for _method in tensor_plumbing.METHODS + tensor_inplace.METHODS:
    setattr(Tensor, _method.__name__, _method)

# PyDyNet's array attributes (torch has neither name): the array module of the tensor's device
# (numpy or cupy) and the byte strides of its array.
Tensor.xp = property(lambda self: self.device.xp)
Tensor.strides = property(lambda self: self.data.strides)

"""Operator and method bindings of Tensor (``x + y``, ``x.sum()``, ``x[i]``, ``x += 1``)."""
import numpy as np

from .backend import engine as _engine
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
    """``x op= y``: in place when no graph is involved; inside a recorded graph (grad mode on
    and x or y part of it) it rebinds ``x`` to the out-of-place result, which keeps every
    gradient right; a leaf that requires grad refuses, as in PyTorch."""

    def method(self, other):
        other_requires = isinstance(other, Tensor) and other.requires_grad
        is_graph_leaf = self.requires_grad and self.grad_fn is None
        if _engine.is_grad_enabled() and not is_graph_leaf and (
                self.grad_fn is not None or other_requires):
            return out_of_place(self, other)
        I.check_inplace(self, name, other_requires)
        a, b = E.operands(self, other, name)
        try:
            ufunc(self.data, b.data, out=self.data)
        except TypeError as exc:  # e.g. an int64 tensor /= 2
            raise TypeError(f"{name}: cannot store the result in a tensor of dtype "
                            f"{self.dtype} in place ({exc})") from None
        except ValueError:
            raise ValueError(f"{name}: a value of shape {b.shape} does not broadcast to the "
                             f"tensor's shape {self.shape} in place") from None
        self._version += 1
        _engine.note_inplace()
        return self
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
    "split": S.split,
    "softmax": lambda self, dim=-1: SM.softmax(self, dim),
    "log_softmax": lambda self, dim=-1: SM.log_softmax(self, dim),
    "erf": SP.erf,
    "eq": _compare(np.equal, "eq"), "ne": _compare(np.not_equal, "ne"),
    "lt": _compare(np.less, "lt"), "le": _compare(np.less_equal, "le"),
    "gt": _compare(np.greater, "gt"), "ge": _compare(np.greater_equal, "ge"),
}
for _name, _fn in _bindings.items():
    setattr(Tensor, _name, _fn)


def _logical(name):
    def method(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Whether any/all elements are nonzero over ``axis``/``dim``; a bool tensor."""
        out = getattr(self.data, name)(axis=R.resolve_axes(name, self.ndim, axis, dim),
                                       keepdims=bool(keepdims or keepdim))
        return Tensor._wrap(np.asarray(out) if type(self.data) is np.ndarray else out)
    method.__name__ = name
    return method


Tensor.any = _logical("any")
Tensor.all = _logical("all")

# torch's plumbing (view/view(dtype), clone, contiguous, new_*, ...) and in-place `_` methods
from . import tensor_inplace, tensor_plumbing  # noqa: E402,F401

"""PyDyNet 1.1's Tensor constructor and top-level ops, as adapters over pydyfast's ops.

Only what PyDyNet defines differently from PyTorch is adapted here; everything else is the
pydyfast function itself. There is one Tensor class: ``pydynet.Tensor(...)`` builds a pydyfast
Tensor, and ``isinstance(t, pydynet.Tensor)`` holds for every pydyfast Tensor.
"""

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple  # noqa: F401  (pydynet.core exports it)

from .. import functional as _F
from ..tensor import Tensor as _Tensor

# Unchanged from pydyfast: the same semantics in PyDyNet 1.1 and PyTorch (or PyDyNet-only names
# that pydyfast has with PyDyNet's meaning).
from .. import concat  # noqa: F401
from ..functional import (abs, argmax, argmin, dsplit, exp, hsplit, log, mean,  # noqa: F401,A004
                          reshape, sigmoid, sign, sqrt, square, squeeze, sum, swapaxes, tanh,
                          transpose, unsqueeze, vsplit)


class _TensorMeta(type):
    """``pydynet.Tensor`` stands for pydyfast's Tensor in isinstance, issubclass and attribute
    look-ups (``pdn.Tensor.T``), so annotations and checks in PyDyNet scripts keep working."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _Tensor)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _Tensor)

    def __getattr__(cls, name):
        return getattr(_Tensor, name)


class Tensor(metaclass=_TensorMeta):
    """PyDyNet's ``Tensor(data, dtype=None, device=None, requires_grad=False)``.

    The one difference from ``pydyfast.Tensor``: with no ``dtype``, the dtype is NumPy's
    (Python floats give float64, as in PyDyNet; PyTorch gives float32)."""

    def __new__(cls, data, dtype=None, device=None, requires_grad=False):
        if dtype is None and not hasattr(data, "dtype"):
            dtype = np.asarray(data).dtype
        return _Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _as_tensor(x):
    return x if isinstance(x, _Tensor) else Tensor(x)


def _numpy_result_type(ufunc, x, y):
    """The dtype NumPy's ``ufunc`` gives for arrays of these dtypes (a 0-d array promotes like any
    other array, int / int is float64): PyDyNet computes in NumPy, so its results have it."""
    return ufunc(np.empty(0, x.dtype), np.empty(0, y.dtype)).dtype


def _numpy_promoting(op, ufunc):
    """``op`` on two tensors after casting both to NumPy's result dtype (differentiably)."""

    def binary(x, y):
        x, y = _as_tensor(x), _as_tensor(y)
        dtype = _numpy_result_type(ufunc, x, y)
        return op(x.to(dtype), y.to(dtype))

    binary.__name__ = op.__name__
    binary.__doc__ = (f"PyDyNet's ``{op.__name__}(x, y)``: pydyfast's op with NumPy's dtype "
                      f"promotion (``np.{ufunc.__name__}``'s result dtype).")
    return binary


add = _numpy_promoting(_F.add, np.add)
sub = _numpy_promoting(_F.sub, np.subtract)
mul = _numpy_promoting(_F.mul, np.multiply)
div = _numpy_promoting(_F.div, np.true_divide)
pow = _numpy_promoting(_F.pow, np.power)  # noqa: A001
maximum = _numpy_promoting(_F.maximum, np.maximum)
minimum = _numpy_promoting(_F.minimum, np.minimum)
matmul = _numpy_promoting(_F.matmul, np.matmul)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """The maximum over ``axis`` (values only, even for a positional axis: PyDyNet's rule)."""
    return _F.max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    """The minimum over ``axis`` (values only, even for a positional axis: PyDyNet's rule)."""
    return _F.min(x, axis=axis, keepdims=keepdims)


def split(x, indices_or_sections, axis=0):
    """NumPy's (and PyDyNet's) ``split``: an int n gives n equal parts, a list the cut points.
    (PyTorch's ``split``, which ``pydyfast.split`` follows for a positional or ``dim=`` axis,
    takes chunk sizes instead; its ``axis=`` keyword is NumPy's.)"""
    return _F.split(x, indices_or_sections, axis=axis)

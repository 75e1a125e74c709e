"""Operands of binary ops: torch's type promotion and scalar constants.

``operands(a, b, op)`` turns the two arguments of a binary op into Tensors of one dtype, by
torch's rules: tensors with dimensions decide the dtype, then 0-d tensors, then Python and numpy
scalars, and a lower group changes it only by raising its category (float32 * np.float64(2) and
float32 + a 0-d float64 tensor stay float32; int32 + 2.5 is float32).
"""
import numpy as np

from .. import dtypes
from ..backend import array_module
from ..tensor import Tensor


def operands(a, b, op):
    """Two Tensors of one dtype for a binary op, by torch's promotion rules (``result_dtype``).
    Python and numpy scalars become constants of that dtype; devices must agree."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a.data, b.data
            if type(da) is not type(db) or (type(da) is not np.ndarray and da.device != db.device):
                raise RuntimeError(f"{op}: expected both tensors on the same device, got "
                                   f"{a.device} and {b.device}")
            if da.dtype is db.dtype:
                return a, b
        elif (type(b) is float or type(b) is int) and a.data.dtype.kind in "fc":
            return a, _scalar_constant(b, a.data, a.data.dtype)  # x * 2.0: the dtype stays
        else:
            b = _as_operand(b, a, op)
    elif isinstance(b, Tensor):
        if (type(a) is float or type(a) is int) and b.data.dtype.kind in "fc":
            return _scalar_constant(a, b.data, b.data.dtype), b
        a = _as_operand(a, b, op)
    else:
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    dtype = result_dtype(a, b)
    like = b if isinstance(a, Scalar) else a
    return _cast(a, dtype, like, op), _cast(b, dtype, like, op)


def is_scalar(value):
    return isinstance(value, (bool, int, float, np.generic))


def scalar_dtype(value):
    """The dtype a Python or numpy scalar takes part in promotion with (torch's wrapped
    numbers): its category only, at the default width (bool, int64, the default float)."""
    kind = np.asarray(value).dtype.kind
    if kind == "b":
        return np.dtype(np.bool_)
    if kind in "iu":
        return np.dtype(np.int64)
    if kind == "c":
        return np.dtype(np.complex128 if dtypes.get_default_dtype() == np.float64
                        else np.complex64)
    return np.dtype(dtypes.get_default_dtype())


def result_dtype(*operands):
    """torch's type promotion: tensors with dimensions decide, then 0-d tensors, then scalars,
    and a lower group changes the dtype only by raising its category (float32 * 0-d float64
    is float32; int32 + 0-d float64 is float64; float16 * 2.0 is float16)."""
    groups = [None, None, None]  # dimensioned tensors, 0-d tensors, scalars
    for x in operands:
        if isinstance(x, Scalar):
            g, d = 2, x.dtype
        else:
            g, d = (0 if x.data.ndim else 1), x.data.dtype
        groups[g] = d if groups[g] is None else dtypes.promote_types(groups[g], d)
    return dtypes.combine_categories(groups[0], dtypes.combine_categories(groups[1], groups[2]))


class Scalar:
    """A Python or numpy scalar waiting for the dtype promotion gives it."""

    __slots__ = ("dtype", "value")

    def __init__(self, value):
        self.value, self.dtype = value, scalar_dtype(value)


def _as_operand(value, like, op):
    return Scalar(value) if is_scalar(value) else constant(value, like, op)


def _cast(x, dtype, like, op):
    if isinstance(x, Scalar):
        return constant(x.value, like, op, dtype)
    return x if x.data.dtype == dtype else x.to(dtype=dtype)


_scalar_constants = {}  # (value, dtype) -> Tensor


def _scalar_constant(value, data, dtype):
    """The scalar ``value`` as a 0-d Tensor of ``dtype`` on the device of the array ``data``;
    CPU constants are cached, so ``x * 2.0`` in a loop allocates nothing new."""
    if type(data) is np.ndarray:
        key = (value, dtype)
        t = _scalar_constants.get(key)
        if t is None:
            if len(_scalar_constants) > 512:
                _scalar_constants.clear()
            t = _scalar_constants[key] = Tensor._wrap(np.array(value, dtype))
        return t
    return Tensor._wrap(array_module(data).asarray(value, dtype))


def constant(value, like, op, dtype=None):
    """``value`` as a Tensor that needs no grad, on the device of ``like``. A scalar takes
    ``dtype``, or else the dtype that promotion with ``like`` gives it."""
    data = like.data
    if is_scalar(value):
        return _scalar_constant(value, data, result_dtype(like, Scalar(value)) if dtype is None
                                else dtype)
    if hasattr(value, "__cuda_array_interface__") and type(data) is np.ndarray:
        raise RuntimeError(f"{op}: expected both operands on the same device, got cpu and a "
                           f"cuda array")
    arr = np.asarray(value) if type(data) is np.ndarray else value
    if arr.dtype == np.float64 and not hasattr(value, "dtype"):
        arr = arr.astype(dtypes.get_default_dtype())  # a list of Python floats
    if type(data) is not np.ndarray:
        arr = array_module(data).asarray(arr)
    return Tensor._wrap(arr)


def real_number(x):
    """A Python or numpy int/float as a Python number (a numpy float64 exponent would make
    numpy compute in float64), or None."""
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)):
        return int(x) if isinstance(x, (int, np.integer)) else float(x)
    return None

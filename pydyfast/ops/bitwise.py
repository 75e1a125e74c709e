"""Bitwise ops on integer and bool tensors (``& | ^ ~``) and logical ops on any tensor.

None of them is differentiable: their results are integer or bool tensors that need no grad.
"""
from ..backend import array_module
from ..tensor import Tensor
from .elementwise import operands

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "logical_not"]


def _integer_array(op, t):
    if t.data.dtype.kind not in "iub":
        raise TypeError(f"{op}: expected integer or bool tensors, got dtype {t.dtype}")
    return t.data


def _bitwise(op, ufunc_name):
    def f(input, other):  # noqa: A002  (torch's argument names)
        a, b = operands(input, other, op)
        a, b = _integer_array(op, a), _integer_array(op, b)
        return Tensor._wrap(getattr(array_module(a), ufunc_name)(a, b))
    f.__name__ = op
    f.__doc__ = f"{op}(input, other): numpy's {ufunc_name} on integer/bool tensors, broadcasting."
    return f


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")
bitwise_left_shift = _bitwise("bitwise_left_shift", "left_shift")
bitwise_right_shift = _bitwise("bitwise_right_shift", "right_shift")


def bitwise_not(input):  # noqa: A002
    """~x: bitwise complement of an integer tensor, logical not of a bool tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bitwise_not: expected a Tensor, got {type(input).__name__}")
    a = _integer_array("bitwise_not", input)
    return Tensor._wrap(array_module(a).invert(a))


def _logical(op):
    def f(input, other):  # noqa: A002
        a, b = operands(input, other, op)
        return Tensor._wrap(getattr(array_module(a.data), op)(a.data, b.data))
    f.__name__ = op
    f.__doc__ = f"{op}(input, other): a bool tensor; nonzero counts as True, broadcasting."
    return f


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


def logical_not(input):  # noqa: A002
    """A bool tensor, True where ``input`` is zero."""
    if not isinstance(input, Tensor):
        raise TypeError(f"logical_not: expected a Tensor, got {type(input).__name__}")
    return Tensor._wrap(array_module(input.data).logical_not(input.data))

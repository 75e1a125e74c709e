"""Trigonometric and hyperbolic functions beyond sin/cos/tanh (those are in elementwise.py).

Integer inputs compute in the default floating dtype, as torch's do. Derivatives are written
with whichever of x or y needs no extra transcendental call.
"""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..backend import array_module
from .elementwise import _unary, _unary_api, operands

__all__ = ["tan", "asin", "acos", "atan", "atan2", "arctan2", "sinh", "cosh", "asinh", "acosh",
           "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh"]


def _one(a):
    return a.dtype.type(1)


def _sqrt(a):
    return array_module(a).sqrt(a)


Tan = _unary("Tan", np.tan, lambda y, gy: gy * (_one(y) + y * y), "y", "tangent")
Asin = _unary("Asin", np.arcsin, lambda x, gy: gy / _sqrt(_one(x) - x * x), "x", "arcsine")
Acos = _unary("Acos", np.arccos, lambda x, gy: -gy / _sqrt(_one(x) - x * x), "x", "arccosine")
Atan = _unary("Atan", np.arctan, lambda x, gy: gy / (_one(x) + x * x), "x", "arctangent")
Sinh = _unary("Sinh", np.sinh, lambda x, gy: gy * np.cosh(x), "x", "hyperbolic sine")
Cosh = _unary("Cosh", np.cosh, lambda x, gy: gy * np.sinh(x), "x", "hyperbolic cosine")
Asinh = _unary("Asinh", np.arcsinh, lambda x, gy: gy / _sqrt(x * x + _one(x)), "x",
               "inverse hyperbolic sine")
Acosh = _unary("Acosh", np.arccosh, lambda x, gy: gy / _sqrt(x * x - _one(x)), "x",
               "inverse hyperbolic cosine")
Atanh = _unary("Atanh", np.arctanh, lambda x, gy: gy / (_one(x) - x * x), "x",
               "inverse hyperbolic tangent")

tan = _unary_api(Tan, "tan", float_only=True)
asin = arcsin = _unary_api(Asin, "asin", float_only=True)
acos = arccos = _unary_api(Acos, "acos", float_only=True)
atan = arctan = _unary_api(Atan, "atan", float_only=True)
sinh = _unary_api(Sinh, "sinh", float_only=True)
cosh = _unary_api(Cosh, "cosh", float_only=True)
asinh = arcsinh = _unary_api(Asinh, "asinh", float_only=True)
acosh = arccosh = _unary_api(Acosh, "acosh", float_only=True)
atanh = arctanh = _unary_api(Atanh, "atanh", float_only=True)


class Atan2(Function):
    """atan2(a, b), the angle of the point (b, a); d/da = b / r^2, d/db = -a / r^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).arctan2(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        scale = gy / (a * a + b * b)
        return (scale * b if need_a else None), (-scale * a if need_b else None)


def atan2(input, other):  # noqa: A002  (torch's argument names)
    """Elementwise angle of (other, input) in (-pi, pi], broadcasting; integers become float."""
    a, b = operands(input, other, "atan2")
    if a.data.dtype.kind not in "fc":
        a, b = a.to(dtype=dtypes.get_default_dtype()), b.to(dtype=dtypes.get_default_dtype())
    return Atan2.apply(a, b)


arctan2 = atan2

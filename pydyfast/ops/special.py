"""Special functions: erf, erfc, erfinv, xlogy, and softsign as a function.

erf, erfc and erfinv use scipy.special (cupyx.scipy.special on the GPU) when it is installed, and
otherwise Python's math.erf/math.erfc per element (erfinv: a rational first guess refined by
Newton steps on erf), so numpy stays the only dependency. Integer inputs compute in the default
floating dtype, as torch's do.
"""
import math

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .elementwise import _unary, _unary_api, abs as absolute, add, div, operands

__all__ = ["erf", "erfc", "erfinv", "xlogy", "softsign"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _special(xp, name, x, fallback):
    """scipy's (cupyx's) special function ``name`` on ``x``, or ``fallback(x)`` without scipy;
    the result in x's dtype."""
    if xp is not np:
        import cupyx.scipy.special as cupy_special
        return getattr(cupy_special, name)(x)
    try:
        import scipy.special as scipy_special
    except ImportError:
        return fallback(x).astype(x.dtype, copy=False)
    return getattr(scipy_special, name)(x).astype(x.dtype, copy=False)


def _per_element(fn):
    return lambda x: np.vectorize(fn, otypes=[np.float64])(x)


def _erfinv_fallback(x):
    """erfinv without scipy: a first guess from the logarithmic approximation of erf's inverse,
    then Newton steps on erf (each squares the error; three reach float64 precision)."""
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 0.147  # Winitzki's constant
        log_term = np.log1p(-x * x)
        first = 2 / (np.pi * a) + log_term / 2
        y = np.sign(x) * np.sqrt(np.sqrt(first * first - log_term / a) - first)
        erf = _per_element(math.erf)
        for _ in range(3):
            step = (erf(y) - x) / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
            y = np.where(np.isfinite(y) & np.isfinite(step), y - step, y)
    return np.where(np.abs(x) == 1, np.sign(x) * np.inf, np.where(np.abs(x) > 1, np.nan, y))


def _erf(x):
    return _special(array_module(x), "erf", x, _per_element(math.erf))


def _erfc(x):
    return _special(array_module(x), "erfc", x, _per_element(math.erfc))


def _erfinv(x):
    return _special(array_module(x), "erfinv", x, _erfinv_fallback)


def _gaussian(x):
    """2/sqrt(pi) exp(-x^2): the derivative of erf."""
    return array_module(x).exp(-x * x) * x.dtype.type(_TWO_OVER_SQRT_PI)


Erf = _unary("Erf", _erf, lambda x, gy: gy * _gaussian(x), "x", "the error function")
Erfc = _unary("Erfc", _erfc, lambda x, gy: -gy * _gaussian(x), "x",
              "1 - erf(x), accurate where erf is near 1")
Erfinv = _unary("Erfinv", _erfinv, lambda y, gy: gy / _gaussian(y), "y",
                "the inverse of erf on (-1, 1)")

erf = _unary_api(Erf, "erf", float_only=True)
erfc = _unary_api(Erfc, "erfc", float_only=True)
erfinv = _unary_api(Erfinv, "erfinv", float_only=True)


class XLogY(Function):
    """x log(y), and 0 wherever x is 0 (y = 0 included, unless y is nan). Gradients: log(y),
    except 0 where x is 0 and y <= 0 (torch's rule), and x / y."""

    @staticmethod
    def forward(ctx, x, y):
        xp = array_module(x)
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * xp.log(y)
        return xp.where((x == 0) & ~xp.isnan(y), x.dtype.type(0), out)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        xp = array_module(x)
        need_x, need_y = ctx.needs_input_grad
        gx = gyy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_x:
                gx = gy * xp.where((x == 0) & (y <= 0), x.dtype.type(0), xp.log(y))
            if need_y:
                gyy = gy * x / y
        return gx, gyy


def xlogy(input, other):  # noqa: A002  (torch's argument names)
    """``input * log(other)`` with 0 where input is 0, broadcasting; either may be a number."""
    x, y = operands(input, other, "xlogy")
    if x.data.dtype.kind not in "fc":
        x, y = x.to(dtype=dtypes.get_default_dtype()), y.to(dtype=dtypes.get_default_dtype())
    return XLogY.apply(x, y)


def softsign(input):  # noqa: A002
    """x / (1 + |x|), elementwise."""
    if not isinstance(input, Tensor):
        raise TypeError(f"softsign: expected a Tensor, got {type(input).__name__}")
    return div(input, add(absolute(input), 1))

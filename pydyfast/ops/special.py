"""Special functions: erf (compiled kernels for its value and gradient, csrc/special.cpp and
kernels/special.cu, with their NumPy references beside them), erfc and erfinv (scipy.special,
or cupyx's, when installed; otherwise math.erfc per element, and for erfinv a rational first
guess refined by Newton steps on erf), xlogy, and softsign as a function. Integer inputs
compute in the default floating dtype, as torch's do.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import array_module, dispatch
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from .elementwise import _unary, _unary_api, abs as absolute, add, div, operands

__all__ = ["erf", "erfc", "erfinv", "xlogy", "softsign"]

_ERF_SERIES_LIMIT = 2.5  # |x| below: the series; above: the continued fraction of erfc
_ERF_TERMS = 40          # enough for both to reach float64 precision (about 1e-15 relative)


# ----------------------------------------------------------------------------- references
def _erf_ref(xp, x):
    """erf(x) for any ``xp``, vectorised, without scipy; computed in float64 and cast back.

    |x| < 2.5: erf(a) = 2/sqrt(pi) e^(-a^2) sum_n (2a^2)^n a / (1 3 5 ... (2n+1)), all terms
    positive (no cancellation). Otherwise erf(a) = 1 - erfc(a) with the continued fraction
    erfc(a) = e^(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...)))), evaluated
    bottom-up. The sign is copied from x, so erf(-0) = -0 and nan stays nan.
    """
    a = xp.abs(x.astype(np.float64))
    s = xp.minimum(a, _ERF_SERIES_LIMIT)  # each branch sees only its own range: no overflow
    two_s2 = 2 * s * s
    term = s
    series = s
    for n in range(1, _ERF_TERMS):
        term = term * two_s2 / (2 * n + 1)
        series = series + term
    small = (2 / math.sqrt(math.pi)) * xp.exp(-s * s) * series
    t = xp.maximum(a, _ERF_SERIES_LIMIT)
    fraction = t
    for k in range(_ERF_TERMS, 0, -1):
        fraction = t + (k / 2) / fraction
    large = 1 - xp.exp(-t * t) / (math.sqrt(math.pi) * fraction)
    return xp.copysign(xp.where(a < _ERF_SERIES_LIMIT, small, large), x).astype(x.dtype)


def _erf_bwd_ref(xp, x, gy):
    """gx = gy * 2/sqrt(pi) * exp(-x^2)."""
    return gy * (x.dtype.type(2 / math.sqrt(math.pi)) * xp.exp(-x * x))


# ----------------------------------------------------------------------------- functions
class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt;  dy/dx = 2/sqrt(pi) e^(-x^2). Any shape."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return dispatch(x, ref=_erf_ref, native="erf_fwd")

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return dispatch(x, gy, ref=_erf_bwd_ref, native="erf_bwd")


# ----------------------------------------------------------------------------- public API
def erf(input):  # noqa: A002  (PyTorch's argument name)
    """The error function, elementwise: erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt.

    input: any shape; floating point (integer and bool inputs are computed in the default
    float dtype, as in PyTorch). Returns the same shape.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"erf: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind not in "f":
        if input.dtype.kind not in "iub":
            raise TypeError(f"erf: expected a real tensor, got dtype {input.dtype}")
        input = input.to(dtype=get_default_dtype())
    return Erf.apply(input)


# ------------------------------------------------------------ erfc, erfinv, xlogy, softsign
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
        for _ in range(3):
            step = (_erf_ref(np, y) - x) / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
            y = np.where(np.isfinite(y) & np.isfinite(step), y - step, y)
    return np.where(np.abs(x) == 1, np.sign(x) * np.inf, np.where(np.abs(x) > 1, np.nan, y))


def _erfc(x):
    return _special(array_module(x), "erfc", x, _per_element(math.erfc))


def _erfinv(x):
    return _special(array_module(x), "erfinv", x, _erfinv_fallback)


def _gaussian(x):
    """2/sqrt(pi) exp(-x^2): the derivative of erf."""
    return array_module(x).exp(-x * x) * x.dtype.type(_TWO_OVER_SQRT_PI)


Erfc = _unary("Erfc", _erfc, lambda x, gy: -gy * _gaussian(x), "x",
              "1 - erf(x), accurate where erf is near 1")
Erfinv = _unary("Erfinv", _erfinv, lambda y, gy: gy / _gaussian(y), "y",
                "the inverse of erf on (-1, 1)")

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
        x, y = x.to(dtype=get_default_dtype()), y.to(dtype=get_default_dtype())
    return XLogY.apply(x, y)


def softsign(input):  # noqa: A002
    """x / (1 + |x|), elementwise."""
    if not isinstance(input, Tensor):
        raise TypeError(f"softsign: expected a Tensor, got {type(input).__name__}")
    return div(input, add(absolute(input), 1))

"""Special functions: erf (a compiled kernel, csrc/special.cpp and kernels/special.cu, with its
NumPy reference beside it), as a Function and its public wrapper.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import array_module, dispatch
from ..dtypes import get_default_dtype
from ..tensor import Tensor

__all__ = ["erf"]

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


def erf_array(x):
    """erf of a float32/float64 numpy or cupy array on the best kernel (gelu uses it too)."""
    return dispatch(x, ref=_erf_ref, native="erf_fwd")


# ----------------------------------------------------------------------------- functions
class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt;  dy/dx = 2/sqrt(pi) e^(-x^2). Any shape."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * (x.dtype.type(2 / math.sqrt(math.pi)) * array_module(x).exp(-x * x))


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

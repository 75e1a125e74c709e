"""Activations of ``pydyfast.nn.functional`` beyond the core ops (relu, sigmoid, tanh).

Each is one ``Function`` whose forward and backward are a few array expressions written for any
``xp`` (numpy or cupy), so no exp overflows in a branch that ``where`` would discard and no
intermediate tensor is kept beyond what the gradient needs.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..ops.elementwise import clip, mul, sigmoid
from ..tensor import Tensor

__all__ = ["gelu", "silu", "elu", "leaky_relu", "softplus", "hardtanh"]


def _check(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.dtype}")


def _erf(xp, x):
    """erf elementwise: scipy's (or cupyx's) when present, else the exact math.erf per element."""
    if xp is not np:
        from cupyx.scipy.special import erf
        return erf(x)
    try:
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[x.dtype])(x).astype(x.dtype, copy=False)
    return erf(x).astype(x.dtype, copy=False)


class GeluExact(Function):
    """y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2;  dy/dx = Phi(x) + x phi(x)."""

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        cdf = (_erf(xp, x * x.dtype.type(1 / math.sqrt(2))) + 1) * x.dtype.type(0.5)
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, gy):
        x, cdf = ctx.saved_tensors
        xp = array_module(x)
        pdf = xp.exp(x * x * x.dtype.type(-0.5)) * x.dtype.type(1 / math.sqrt(2 * math.pi))
        return gy * (cdf + x * pdf)


class GeluTanh(Function):
    """y = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3)."""

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        c, k = x.dtype.type(math.sqrt(2 / math.pi)), x.dtype.type(0.044715)
        t = xp.tanh(c * (x + k * x * x * x))
        ctx.save_for_backward(x, t)
        return x.dtype.type(0.5) * x * (t + 1)

    @staticmethod
    def backward(ctx, gy):
        x, t = ctx.saved_tensors
        c, k, half = x.dtype.type(math.sqrt(2 / math.pi)), x.dtype.type(0.044715), x.dtype.type(0.5)
        du = c * (1 + 3 * k * x * x)
        return gy * (half * (t + 1) + half * x * (1 - t * t) * du)


class Elu(Function):
    """y = x for x > 0, alpha (e^x - 1) otherwise; exp sees only min(x, 0), so it never overflows."""

    @staticmethod
    def forward(ctx, x, alpha):
        xp = array_module(x)
        neg = alpha * xp.expm1(xp.minimum(x, 0))
        ctx.save_for_backward(x, neg)
        ctx.alpha = alpha
        return xp.where(x > 0, x, neg)

    @staticmethod
    def backward(ctx, gy):
        x, neg = ctx.saved_tensors
        return gy * array_module(x).where(x > 0, x.dtype.type(1), neg + ctx.alpha)


class LeakyRelu(Function):
    """y = x for x > 0, slope x otherwise (gradient slope at 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return array_module(x).where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return array_module(x).where(x > 0, gy, gy * ctx.slope)


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta, and y = x where beta x > threshold (None: never).

    Written as max(z, 0) + log1p(e^-|z|) so that z = +-1e4 neither overflows nor loses the
    small tail; dy/dx = sigmoid(beta x)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = array_module(x)
        z = x * beta
        y = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        if threshold is not None:
            y = xp.where(z > threshold, x, y)
        ctx.save_for_backward(z)
        ctx.threshold = threshold
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (z,) = ctx.saved_tensors
        xp = array_module(z)
        s = z.dtype.type(0.5) * (xp.tanh(z.dtype.type(0.5) * z) + 1)  # sigmoid without overflow
        if ctx.threshold is not None:
            s = xp.where(z > ctx.threshold, z.dtype.type(1), s)
        return gy * s


def gelu(input, approximate="none"):  # noqa: A002  (PyTorch's argument name)
    """Gaussian error linear unit, elementwise, any shape.

    ``approximate='none'``: x Phi(x) with the exact normal CDF (erf);
    ``approximate='tanh'``: x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
    """
    _check("gelu", input)
    if approximate == "none":
        return GeluExact.apply(input)
    if approximate == "tanh":
        return GeluTanh.apply(input)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input):  # noqa: A002
    """x sigmoid(x) (swish), elementwise."""
    _check("silu", input)
    return mul(input, sigmoid(input))


def elu(input, alpha=1.0):  # noqa: A002
    """x if x > 0 else alpha (e^x - 1), elementwise."""
    _check("elu", input)
    return Elu.apply(input, alpha=input.data.dtype.type(alpha))


def leaky_relu(input, negative_slope=0.01):  # noqa: A002
    """x if x > 0 else negative_slope x, elementwise."""
    _check("leaky_relu", input)
    return LeakyRelu.apply(input, slope=input.data.dtype.type(negative_slope))


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + e^(beta x)) / beta, and x where beta x > threshold (PyTorch's linear tail)."""
    _check("softplus", input)
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero")
    return Softplus.apply(input, beta=input.data.dtype.type(beta), threshold=threshold)


def hardtanh(input, min_val=-1.0, max_val=1.0):  # noqa: A002
    """x clamped to [min_val, max_val] (gradient 1 inside, 0 outside)."""
    _check("hardtanh", input)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) is greater than max_val ({max_val})")
    return clip(input, min_val, max_val)

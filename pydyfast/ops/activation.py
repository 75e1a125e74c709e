"""Elementwise activations beyond the core ops (relu, sigmoid, tanh): gelu (exact and tanh),
elu, leaky_relu and softplus, as Functions on raw arrays. Public wrappers live in
``pydyfast.nn.functional``.

Each forward and backward is a few array expressions written for any ``xp`` (numpy or cupy), so
no exp overflows in a branch that ``where`` would discard and no intermediate is kept beyond
what the gradient needs.
"""
import math

from ..autograd import Function
from ..backend import array_module, dispatch
from .special import _erf_ref


def _normal_cdf(xp, x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2."""
    return (_erf_ref(xp, x * x.dtype.type(1 / math.sqrt(2))) + 1) * x.dtype.type(0.5)


def _gelu_ref(xp, x):
    """y = x Phi(x)."""
    return x * _normal_cdf(xp, x)


def _gelu_bwd_ref(xp, x, gy):
    """gx = gy (Phi(x) + x phi(x)) with phi(x) = exp(-x^2 / 2) / sqrt(2 pi)."""
    pdf = xp.exp(x * x * x.dtype.type(-0.5)) * x.dtype.type(1 / math.sqrt(2 * math.pi))
    return gy * (_normal_cdf(xp, x) + x * pdf)


class GeluExact(Function):
    """y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2;  dy/dx = Phi(x) + x phi(x).

    One compiled pass each way (csrc/special.cpp); the backward recomputes Phi from x, so only
    x is saved."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return dispatch(x, ref=_gelu_ref, native="gelu_fwd")

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return dispatch(x, gy, ref=_gelu_bwd_ref, native="gelu_bwd")


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
    """y = x for x > 0, alpha (e^x - 1) otherwise; exp sees only min(x, 0): no overflow."""

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

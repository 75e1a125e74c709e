"""Activations of ``pydyfast.nn.functional`` beyond the core ops (relu, sigmoid, tanh): the
public wrappers, which check their arguments; the Functions live in ``pydyfast.ops.activation``.
"""
from ..ops.activation import Elu, GeluExact, GeluTanh, LeakyRelu, Softplus
from ..ops.elementwise import clip, mul, sigmoid
from ..tensor import Tensor

__all__ = ["gelu", "silu", "elu", "leaky_relu", "softplus", "hardtanh"]


def _check(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.dtype}")


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

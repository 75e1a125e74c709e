"""Activations of ``pydyfast.nn.functional`` beyond the core ops (relu, sigmoid, tanh): the
public wrappers, which check their arguments; the Functions live in ``pydyfast.ops.activation``.
"""
from ..ops.activation import Elu, GeluExact, GeluTanh, LeakyRelu, Softplus
from ..ops.elementwise import clip, mul, sigmoid, tanh
from ..ops.softmax import softmax
from ..tensor import Tensor

__all__ = ["gelu", "silu", "elu", "leaky_relu", "softplus", "hardtanh",
           "relu6", "hardsigmoid", "hardswish", "mish", "selu", "celu", "glu", "logsigmoid",
           "softmin"]

# SELU's constants (Klambauer et al. 2017), as PyTorch rounds them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


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


# Composites of the ops above: their gradients are the composites' (PyTorch's values, except
# exactly at the kinks, where a one-sided derivative is taken).

def relu6(input):  # noqa: A002
    """min(max(x, 0), 6), elementwise."""
    _check("relu6", input)
    return clip(input, 0.0, 6.0)


def hardsigmoid(input):  # noqa: A002
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    _check("hardsigmoid", input)
    return clip(input + 3.0, 0.0, 6.0) * (1.0 / 6.0)


def hardswish(input):  # noqa: A002
    """x relu6(x + 3) / 6 (MobileNetV3)."""
    _check("hardswish", input)
    return input * (clip(input + 3.0, 0.0, 6.0) * (1.0 / 6.0))


def _softplus_exact(x):
    """log(1 + e^x) without the linear tail's switch: stable for any x."""
    return Softplus.apply(x, beta=x.data.dtype.type(1), threshold=None)


def mish(input):  # noqa: A002
    """x tanh(softplus(x))."""
    _check("mish", input)
    return mul(input, tanh(_softplus_exact(input)))


def selu(input):  # noqa: A002
    """scale * elu(x, alpha) with SELU's fixed alpha ~ 1.6733 and scale ~ 1.0507."""
    _check("selu", input)
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input, alpha=1.0):  # noqa: A002
    """x if x > 0 else alpha (e^(x/alpha) - 1) = alpha elu(x / alpha)."""
    _check("celu", input)
    if alpha == 0:
        raise ValueError("celu: alpha must be nonzero")
    return elu(input * (1.0 / alpha), 1.0) * alpha


def glu(input, dim=-1):  # noqa: A002
    """a sigmoid(b) where a, b are the two halves of x along ``dim`` (whose size must be even)."""
    _check("glu", input)
    if input.ndim == 0:
        raise ValueError("glu: expected a tensor with at least one dimension, got a 0-d one")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for input of shape {input.shape}")
    axis, n = dim % input.ndim, input.shape[dim]
    if n % 2:
        raise ValueError(f"glu: halving dimension {dim} of input {input.shape} needs an even "
                         f"size, got {n}")
    lead = (slice(None),) * axis
    return input[lead + (slice(0, n // 2),)] * sigmoid(input[lead + (slice(n // 2, n),)])


def logsigmoid(input):  # noqa: A002
    """log(sigmoid(x)) = -softplus(-x), stable for logits of any size."""
    _check("logsigmoid", input)
    return -_softplus_exact(-input)


def softmin(input, dim=None, dtype=None):  # noqa: A002
    """softmax(-x) along ``dim``; ``dtype`` casts first. dim=None picks PyTorch's legacy
    implicit axis: 0 for 0-, 1- and 3-D inputs, else 1."""
    _check("softmin", input)
    if dtype is not None:
        input = input.to(dtype=dtype)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return softmax(-input, dim=dim)

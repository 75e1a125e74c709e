"""Parameter initialisation (``torch.nn.init``) with PyTorch's fan and gain rules.

Every function fills ``tensor.data`` in place (the same array, so views and optimizers see
it), which autograd never records, and returns the tensor. Random numbers come from
the global generator, seeded by ``pydyfast.manual_seed``; they are drawn on the
CPU in float64 and cast, so one seed gives the same weights on every device and dtype. The
random fills take torch's ``generator=`` (a ``pydyfast.Generator``) for a stream of their own.
"""
import math
import numbers

import numpy as np

from ..backend import engine as _engine
from ..cuda import to_device
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_"]

_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope ``param``, default 0.01),
    3/4 for selu."""
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Number) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in * prod(kernel) and
    out * prod(kernel), as in torch."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dimensions, "
                         f"got shape {tuple(tensor.shape)}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    """Write ``values`` (numpy, any float dtype) into ``tensor.data`` in place."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init: expected a Tensor, got {type(tensor).__name__}")
    data = tensor.data
    values = np.asarray(values, dtype=data.dtype)
    data[...] = values if isinstance(data, np.ndarray) else to_device(values, tensor.device)
    _engine.note_inplace(tensor)  # a graph that saved the old values must not backward on these
    return tensor


def _rng(generator, op):
    """The numpy Generator to draw from: ``generator`` (a pydyfast.Generator) or the global."""
    from ..random import numpy_generator
    return numpy_generator(generator, op)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b)."""
    if b < a:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    return _fill(tensor, _rng(generator, "uniform_").uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, _rng(generator, "normal_").normal(mean, std, tensor.shape))


def constant_(tensor, val):
    """Fill with ``val``."""
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    """The identity matrix (2-D tensors only)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expected a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    r"""U(-a, a) with :math:`a = \mathrm{gain}\sqrt{6 / (\mathrm{fan\_in} + \mathrm{fan\_out})}`
    (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    rng = _rng(generator, "xavier_uniform_")
    return _fill(tensor, rng.uniform(-bound, bound, tensor.shape))


def xavier_normal_(tensor, gain=1.0, generator=None):
    r"""N(0, std^2) with :math:`std = \mathrm{gain}\sqrt{2 / (\mathrm{fan\_in} +
    \mathrm{fan\_out})}`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(generator, "xavier_normal_").normal(0.0, std, tensor.shape))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                     generator=None):
    r"""U(-b, b) with :math:`b = \mathrm{gain}\sqrt{3 / \mathrm{fan}}` (He et al., 2015);
    ``a`` is the negative slope of leaky_relu, ``mode`` picks fan_in or fan_out."""
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    rng = _rng(generator, "kaiming_uniform_")
    return _fill(tensor, rng.uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                    generator=None):
    r"""N(0, std^2) with :math:`std = \mathrm{gain} / \sqrt{\mathrm{fan}}`."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _fill(tensor, _rng(generator, "kaiming_normal_").normal(0.0, std, tensor.shape))


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix times ``gain``, the trailing dimensions flattened (Saxe et
    al., 2013): QR of a Gaussian matrix, with the signs of R's diagonal folded into Q so the
    result is uniformly distributed."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: expected at least 2 dimensions, got shape "
                         f"{tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = int(np.prod(tensor.shape)) // rows if rows else 0
    flat = _rng(generator, "orthogonal_").normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))

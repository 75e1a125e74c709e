"""Parameter factories shared by the layers: PyTorch's default initialisations, created in the
dtype and on the device that a layer's ``dtype=``/``device=`` keywords ask for."""
import math

import numpy as np

from ... import dtypes
from ...cuda import Device, to_device
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter


def factory_kwargs(layer, device=None, dtype=None):
    """torch's factory keywords of a layer, checked once: ``{"dtype": floating numpy dtype
    (default: the default dtype), "device": Device or None}``, to pass to the factories below."""
    dtype = np.dtype(dtypes.resolve(dtype) if dtype is not None else dtypes.get_default_dtype())
    if dtype.kind != "f":
        raise TypeError(f"{layer}: dtype must be a floating dtype for its parameters, got "
                        f"{dtype}")
    return {"dtype": dtype, "device": None if device is None else Device(device)}


def _placed(array, device):
    return array if device is None else to_device(array, device)


def buffer(array, device=None):
    """A buffer Tensor holding ``array`` on ``device`` (BatchNorm's running statistics)."""
    return Tensor._wrap(_placed(array, device))


def empty_parameter(*shape, dtype=None, device=None):
    """An uninitialised Parameter (the default dtype unless ``dtype``)."""
    dtype = dtype if dtype is not None else dtypes.get_default_dtype()
    return Parameter(_placed(np.empty(shape, dtype=dtype), device))


def kaiming_weight(*shape, **factory):
    """PyTorch's Linear/Conv default weight: kaiming_uniform(a=sqrt 5), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = shape[1] * prod(shape[2:])."""
    weight = empty_parameter(*shape, **factory)
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    return weight


def fan_in_bias(n, fan_in, **factory):
    """PyTorch's Linear/Conv default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return uniform_parameter((n,), 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0, **factory)


def _shape(n):
    return (n,) if isinstance(n, int) else tuple(n)


def ones_parameter(n, **factory):
    """A Parameter of ones of shape ``n`` (an int or a tuple)."""
    return init.ones_(empty_parameter(*_shape(n), **factory))


def zeros_parameter(n, **factory):
    return init.zeros_(empty_parameter(*_shape(n), **factory))


def uniform_parameter(shape, bound, **factory):
    """A Parameter ~ U(-bound, bound) (Bilinear's and the RNN family's default)."""
    p = empty_parameter(*shape, **factory)
    init.uniform_(p, -bound, bound)
    return p

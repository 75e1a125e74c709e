"""Parameter factories shared by the layers: PyTorch's default initialisations."""
import math

import numpy as np

from ... import dtypes
from .. import init
from ..parameter import Parameter


def empty_parameter(*shape):
    """An uninitialised Parameter of the default dtype (float32 unless changed)."""
    return Parameter(np.empty(shape, dtype=dtypes.get_default_dtype()))


def kaiming_weight(*shape):
    """PyTorch's Linear/Conv default weight: kaiming_uniform(a=sqrt 5), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = shape[1] * prod(shape[2:])."""
    weight = empty_parameter(*shape)
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    return weight


def fan_in_bias(n, fan_in):
    """PyTorch's Linear/Conv default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return uniform_parameter((n,), 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0)


def ones_parameter(n):
    return Parameter(np.ones(n, dtype=dtypes.get_default_dtype()))


def zeros_parameter(n):
    return Parameter(np.zeros(n, dtype=dtypes.get_default_dtype()))


def uniform_parameter(shape, bound):
    """A Parameter ~ U(-bound, bound) (Bilinear's and the RNN family's default)."""
    p = empty_parameter(*shape)
    init.uniform_(p, -bound, bound)
    return p

"""The public op surface as functions on Tensors (PyDyNet's ``pydynet.functional``).

Each kernel family's module lists its public functions in ``__all__``; they are gathered here.
"""
from .ops.elementwise import (abs, add, clip, cos, div, exp, log, masked_fill, maximum,  # noqa: F401
                              minimum, mul, neg, pow, relu, sigmoid, sin, sqrt, square, sub,
                              tanh, where)
from .ops.index import getitem, setitem  # noqa: F401
from .ops.linalg import matmul  # noqa: F401
from .ops.reduce import argmax, argmin, logsumexp, max, mean, min, std, sum, var  # noqa: F401
from .ops.shape import (broadcast_to, cat, concatenate, dsplit, expand, flatten,  # noqa: F401
                        hsplit, permute, reshape, split, squeeze, stack, swapaxes, transpose,
                        unsqueeze, view, vsplit)
from .ops.attention import *  # noqa: F401,F403
from .ops.conv import *  # noqa: F401,F403
from .ops.norm import *  # noqa: F401,F403
from .ops.pool import *  # noqa: F401,F403
from .ops.rnn import *  # noqa: F401,F403
from .ops.softmax import *  # noqa: F401,F403
from .ops.special import *  # noqa: F401,F403

clamp = clip
dot = matmul

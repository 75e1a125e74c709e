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
from .ops.conv_transpose import *  # noqa: F401,F403
from .ops.norm import *  # noqa: F401,F403
from .ops.pool import *  # noqa: F401,F403
from .ops.rnn import *  # noqa: F401,F403
from .ops.softmax import *  # noqa: F401,F403
from .ops.special import *  # noqa: F401,F403

clamp = clip

# torch's selection and splitting ops (issue 19, silent differences)
from .ops.reduce import amax, amin, median  # noqa: E402,F401
from .ops.shape import chunk, tensor_split, unbind  # noqa: E402,F401

# The tensor op surface (pointwise math, bitwise, trig, contractions, scans, sorting, selection,
# rearranging). SURFACE names them for pydyfast/__init__.py and the Tensor methods.
from .ops import (bitwise as _bitwise, einsum as _einsum, gather as _gather,  # noqa: E402
                  linalg as _linalg, pointwise as _pointwise, prod_norm as _prod_norm,
                  rearrange as _rearrange, scan as _scan, sort as _sort, special as _special,
                  trig as _trig)
from .ops.bitwise import *  # noqa: F401,F403,E402
from .ops.einsum import *  # noqa: F401,F403,E402
from .ops.gather import *  # noqa: F401,F403,E402
from .ops.linalg import *  # noqa: F401,F403,E402
from .ops.pointwise import *  # noqa: F401,F403,E402
from .ops.prod_norm import *  # noqa: F401,F403,E402
from .ops.rearrange import *  # noqa: F401,F403,E402
from .ops.scan import *  # noqa: F401,F403,E402
from .ops.sort import *  # noqa: F401,F403,E402
from .ops.trig import *  # noqa: F401,F403,E402

div = divide  # noqa: F405,F811  (div with rounding_mode=)
SURFACE = tuple(name for module in (_bitwise, _einsum, _gather, _linalg, _pointwise, _prod_norm,
                                    _rearrange, _scan, _sort, _special, _trig)
                for name in module.__all__) + ("div", "clamp_min", "clamp_max")

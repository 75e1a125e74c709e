"""pydyfast: PyDyNet's PyTorch-style autograd API on compiled C++/Cython and CUDA kernels.

>>> import pydyfast as pdf
>>> x = pdf.Tensor([1, 2, 3], requires_grad=True)
>>> pdf.functional.sum(pdf.functional.log(x) + x).backward()
>>> x.grad
tensor([2.    , 1.5   , 1.3333])
"""
from . import backend, cuda, dtypes  # noqa: F401
from .tensor import Tensor
from . import autograd, functional  # noqa: F401
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .backend import get_num_threads, set_kernels, set_num_threads  # noqa: F401
from .creation import (arange, empty, empty_like, eye, from_numpy, full, full_like,  # noqa: F401
                       linspace, manual_seed, normal, ones, ones_like, rand, randint, randn,
                       randperm, tensor, uniform, zeros, zeros_like)
from .cuda import Device, device  # noqa: F401
from .dtypes import (bool_, double, float, float16, float32, float64, get_default_dtype,  # noqa: F401,A004
                     half, int8, int16, int32, int64, long, set_default_dtype, uint8)
from .functional import (abs, argmax, argmin, cat, clamp, clip, concatenate, cos, exp,  # noqa: F401,A004
                         flatten, log, logsumexp, masked_fill, matmul, max, maximum, mean,
                         min, minimum, permute, relu, reshape, sigmoid, sin, split, sqrt,
                         square, squeeze, stack, std, sum, tanh, transpose, unsqueeze, var,
                         where)
from .functional import amax, amin, chunk, median, tensor_split, unbind  # noqa: F401,E402

from .ops.special import erf  # noqa: F401
from .serialization import load, save  # noqa: F401
# torch's plumbing: Generator, sampling, memory formats, the bool/int dtype names
from .random import Generator, default_generator, initial_seed, seed  # noqa: F401,E402
from .creation import rand_like, randint_like, randn_like  # noqa: F401,E402
from .ops.random import bernoulli, multinomial  # noqa: F401,E402
from .tensor_plumbing import (channels_last, contiguous_format, memory_format,  # noqa: F401,E402
                              preserve_format)
from .dtypes import bool_ as bool, int32 as int  # noqa: F401,E402,A004
from . import data, nn, optim, special, utils  # noqa: F401,E402
from . import distributed  # noqa: F401,E402
# PyDyNet's top-level names (PyTorch has them too, except concat, its name for cat).
from .functional import (add, dsplit, hsplit, mul, pow, sub, swapaxes,  # noqa: F401,E402,A004
                         vsplit)
from .functional import concatenate as concat  # noqa: F401,E402
from .functional import SURFACE as _SURFACE  # noqa: E402

# The tensor op surface (cumsum, topk, gather, einsum, erf, ...) as pdf.X, as in torch
globals().update({_name: getattr(functional, _name) for _name in _SURFACE})

__version__ = "0.1.0"

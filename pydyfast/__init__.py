"""pydyfast: PyDyNet's PyTorch-style autograd API on compiled C++/Cython and CUDA kernels.

>>> import pydyfast as pdf
>>> x = pdf.Tensor([1, 2, 3], requires_grad=True)
>>> pdf.functional.sum(pdf.functional.log(x) + x).backward()
>>> x.grad
tensor([2.    , 1.5   , 1.3333])
"""
import pkgutil

# Run from a source checkout (`python -m llama.infer` in the repository root), this folder shadows
# the installed package; extending __path__ lets the compiled modules of the installed copy load.
__path__ = pkgutil.extend_path(__path__, __name__)

from . import backend, cuda, dtypes  # noqa: E402,F401
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
from .serialization import load, save  # noqa: F401
from . import data, nn, optim, utils  # noqa: F401,E402
from .functional import SURFACE as _SURFACE  # noqa: E402

# The tensor op surface (cumsum, topk, gather, einsum, erf, ...) as pdf.X, as in torch
globals().update({_name: getattr(functional, _name) for _name in _SURFACE})

__version__ = "0.1.0"

"""Benchmark cases of the conv family (issue 4 shapes), all float32.

conv2d: x (64, 16, 28, 28), weight (32, 16, 3, 3), bias, padding 1.
conv2d_lenet: LeNet's second convolution in the training benchmark, x (256, 20, 14, 14), weight
    (50, 20, 3, 3), bias, padding 1.
conv2d_1x1: x (64, 64, 28, 28), weight (64, 64, 1, 1), bias (the pointwise layer of mobile nets,
    whose columns are the image itself).
conv1d: x (64, 16, 256), weight (32, 16, 5), bias, padding 2.
conv_transpose2d: x (64, 32, 14, 14), weight (32, 16, 2, 2), stride 2 (the decoder upsampling).
im2col / col2im: the raw kernels on the conv2d shapes, beside torch's unfold / fold.
"""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case

_rng = np.random.default_rng(0)


def _f32(*shape):
    return _rng.standard_normal(shape).astype(np.float32)


def _conv2d_case(x_shape, w_shape, padding):
    """A conv2d case with bias: x, weight and padding as given."""
    def case(framework, device):
        arrays = [_f32(*x_shape), _f32(*w_shape), _f32(w_shape[0])]
        return op_case(framework, device, arrays,
                       lambda x, w, b: _functional().conv2d(x, w, b, padding=padding),
                       lambda x, w, b: _torch_functional().conv2d(x, w, b, padding=padding))
    return case


def _conv1d(framework, device):
    arrays = [_f32(64, 16, 256), _f32(32, 16, 5), _f32(32)]
    return op_case(framework, device, arrays,
                   lambda x, w, b: _functional().conv1d(x, w, b, padding=2),
                   lambda x, w, b: _torch_functional().conv1d(x, w, b, padding=2))


def _conv_transpose2d(framework, device):
    arrays = [_f32(64, 32, 14, 14), _f32(32, 16, 2, 2)]
    return op_case(framework, device, arrays,
                   lambda x, w: _functional().conv_transpose2d(x, w, stride=2),
                   lambda x, w: _torch_functional().conv_transpose2d(x, w, stride=2))


def _raw(framework, device, array, pydyfast_fn, torch_fn):
    """A forward-only case of a raw-array kernel."""
    if framework == "torch":
        import torch
        if device == "cuda" and not torch.cuda.is_available():
            raise NotImplementedError("torch has no CUDA device here")
        x = torch.tensor(array, device=device)
        return {"forward": lambda: torch_fn(x)}
    from pydyfast import backend
    backend.set_kernels("numpy" if framework == "numpy" else "native")
    if device == "cuda":
        from pydyfast.cuda import cupy_module
        array = cupy_module().asarray(array)
    return {"forward": lambda: pydyfast_fn(array)}


def _im2col(framework, device):
    from pydyfast.ops import conv
    return _raw(framework, device, _f32(64, 16, 28, 28),
                lambda x: conv.im2col(x, 3, padding=1),
                lambda x: _torch_functional().unfold(x, 3, padding=1))


def _col2im(framework, device):
    from pydyfast.ops import conv
    return _raw(framework, device, _f32(64, 16 * 9, 28 * 28),
                lambda c: conv.col2im(c, (28, 28), 3, padding=1),
                lambda c: _torch_functional().fold(c, (28, 28), 3, padding=1))


def _functional():
    import pydyfast.functional as F
    return F


def _torch_functional():
    import torch.nn.functional as F
    return F


CASES = [
    KernelCase("conv2d", "N=64 C=16 28x28, 32 filters 3x3, pad 1, bias, f32",
               _conv2d_case((64, 16, 28, 28), (32, 16, 3, 3), 1)),
    KernelCase("conv2d_lenet", "N=256 C=20 14x14, 50 filters 3x3, pad 1, bias, f32",
               _conv2d_case((256, 20, 14, 14), (50, 20, 3, 3), 1)),
    KernelCase("conv2d_1x1", "N=64 C=64 28x28, 64 filters 1x1, bias, f32",
               _conv2d_case((64, 64, 28, 28), (64, 64, 1, 1), 0)),
    KernelCase("conv1d", "N=64 C=16 L=256, 32 filters k=5, pad 2, bias, f32", _conv1d),
    KernelCase("conv_transpose2d", "N=64 C=32 14x14 -> 16 ch, 2x2 stride 2, f32",
               _conv_transpose2d),
    KernelCase("im2col", "(64, 16, 28, 28) -> (64, 144, 784), 3x3 pad 1, f32", _im2col),
    KernelCase("col2im", "(64, 144, 784) -> (64, 16, 28, 28), 3x3 pad 1, f32", _col2im),
]

"""Tensor factories (zeros, ones, rand, ...) and seeding the global generator (manual_seed).

The random factories take torch's ``generator=`` (a ``pydyfast.Generator``); see random.py.
"""
import numpy as np

from . import dtypes
from .cuda import Device
from .random import default_generator, numpy_generator
from .tensor import Tensor


def manual_seed(seed):
    """Seed pydyfast's random numbers (rand, randn, init, dropout, shuffling) on every device;
    returns the default ``Generator``, as torch does."""
    default_generator.manual_seed(seed)
    from .cuda import is_available, cupy_module
    if is_available():
        cupy_module().random.seed(default_generator.initial_seed() % (1 << 32))
    return default_generator


def generator():
    """The numpy Generator behind pydyfast's global random stream."""
    return default_generator.numpy


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"expected a shape of integers, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _finish(arr, dtype, device, requires_grad):
    """Wrap a fresh numpy array: default float dtype, device move, grad flag."""
    if dtype is not None:
        arr = arr.astype(dtypes.resolve(dtype), copy=False)
    elif arr.dtype == np.float64:
        arr = arr.astype(dtypes.get_default_dtype(), copy=False)
    if requires_grad and arr.dtype.kind not in "fc":
        raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                        f"{arr.dtype}")
    if device is not None and Device(device).type == "cuda":
        from .cuda import to_device
        arr = to_device(arr, Device(device))
    return Tensor._wrap(arr, bool(requires_grad))


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new Tensor holding a copy of ``data`` (``torch.tensor``)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def from_numpy(array):
    """A Tensor that shares memory with the numpy array (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def _filled(value):
    def factory(*shape, dtype=None, device=None, requires_grad=False):
        return _finish(np.full(_shape(shape), value, dtype=dtypes.resolve(dtype) or np.float64),
                       dtype, device, requires_grad)
    return factory


zeros = _filled(0)
ones = _filled(1)
zeros.__doc__ = "A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."
ones.__doc__ = "A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."


def empty(*shape, dtype=None, device=None, requires_grad=False):
    return _finish(np.empty(_shape(shape), dtype=dtypes.resolve(dtype) or np.float64), dtype,
                   device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    shape = _shape((shape,) if isinstance(shape, int) else (tuple(shape),))
    if dtype is None and isinstance(fill_value, bool):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = np.int64
    return _finish(np.full(shape, fill_value, dtype=dtypes.resolve(dtype) or np.float64), dtype,
                   device, requires_grad)


def _like(factory):
    def like(t, dtype=None, device=None, requires_grad=False):
        return factory(*t.shape, dtype=dtype or t.dtype, device=device or t.device,
                       requires_grad=requires_grad)
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """``arange(n)`` or ``arange(start, end, step)``; integers give int64, as in PyTorch."""
    if end is None:
        start, end = 0, start
    arr = np.arange(start, end, step)
    if dtype is None and arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    return _finish(arr, dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _finish(np.linspace(start, end, int(steps)), dtype, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m), dtype, device, requires_grad)


def rand(*shape, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    rng = numpy_generator(generator, "rand")
    return _finish(rng.random(_shape(shape)), dtype, device, requires_grad)


def randn(*shape, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    rng = numpy_generator(generator, "randn")
    return _finish(rng.standard_normal(_shape(shape)), dtype, device, requires_grad)


def _size(size):
    return _shape((size,) if isinstance(size, int) else (tuple(size or ()),))


def uniform(low=0.0, high=1.0, size=None, dtype=None, device=None, requires_grad=False, *,
            generator=None):
    """Uniform samples on [low, high) (PyDyNet's uniform)."""
    rng = numpy_generator(generator, "uniform")
    return _finish(rng.uniform(low, high, _size(size)), dtype, device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, dtype=None, device=None, requires_grad=False, *,
           generator=None):
    rng = numpy_generator(generator, "normal")
    return _finish(rng.normal(mean, std, _size(size)), dtype, device, requires_grad)


def _randint_bounds(op, low, high):
    if high is None:
        low, high = 0, low
    if int(low) >= int(high):
        raise ValueError(f"{op}: expected low < high, got low={low}, high={high}")
    return int(low), int(high)


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers in [low, high) (``randint(high, size)`` too); int64 by default."""
    if isinstance(high, (tuple, list)):  # torch's randint(high, size)
        low, high, size = 0, low, high
    low, high = _randint_bounds("randint", low, high)
    rng = numpy_generator(generator, "randint")
    return _finish(rng.integers(low, high, _size(size), dtype=np.int64), dtype, device,
                   requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    rng = numpy_generator(generator, "randperm")
    return _finish(rng.permutation(int(n)).astype(np.int64), dtype, device, requires_grad)


def _random_like(draw, op):
    """``op(input, ...)``: samples shaped like ``input``, in its dtype and on its device."""
    def like(input, dtype=None, device=None, requires_grad=False, *, generator=None):  # noqa: A002
        dtype = dtypes.resolve(dtype) or input.dtype
        if np.dtype(dtype).kind not in "fc":
            raise TypeError(f"{op}: expected a floating dtype, got {np.dtype(dtype)}")
        values = draw(numpy_generator(generator, op), input.shape)
        return _finish(values, dtype, device or input.device, requires_grad)
    like.__name__ = op
    return like


rand_like = _random_like(lambda rng, shape: rng.random(shape), "rand_like")
randn_like = _random_like(lambda rng, shape: rng.standard_normal(shape), "randn_like")
rand_like.__doc__ = "Uniform samples on [0, 1) shaped like ``input`` (``torch.rand_like``)."
randn_like.__doc__ = "Standard normal samples shaped like ``input`` (``torch.randn_like``)."


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None,  # noqa: A002
                 requires_grad=False):
    """Integers in [low, high) shaped like ``input``, in its dtype (``randint_like(x, high)``
    or ``randint_like(x, low, high)``, as torch)."""
    low, high = _randint_bounds("randint_like", low, high)
    rng = numpy_generator(generator, "randint_like")
    return _finish(rng.integers(low, high, input.shape, dtype=np.int64),
                   dtype or input.dtype, device or input.device, requires_grad)

"""Tensor factories (zeros, ones, rand, ...) and the global random generator (manual_seed)."""
import numpy as np

from . import dtypes
from .cuda import Device
from .tensor import Tensor

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed pydyfast's random numbers (rand, randn, init, dropout, shuffling) on every device."""
    global _rng
    _rng = np.random.default_rng(int(seed))
    from .cuda import is_available, cupy_module
    if is_available():
        cupy_module().random.seed(int(seed))
    return _rng


def generator():
    """The numpy Generator behind pydyfast's random functions."""
    return _rng


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


def rand(*shape, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    return _finish(_rng.random(_shape(shape)), dtype, device, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    return _finish(_rng.standard_normal(_shape(shape)), dtype, device, requires_grad)


def uniform(low=0.0, high=1.0, size=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [low, high) (PyDyNet's uniform)."""
    shape = _shape((size,) if isinstance(size, int) else (tuple(size or ()),))
    return _finish(_rng.uniform(low, high, shape), dtype, device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, dtype=None, device=None, requires_grad=False):
    shape = _shape((size,) if isinstance(size, int) else (tuple(size or ()),))
    return _finish(_rng.normal(mean, std, shape), dtype, device, requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None):
    """Integers in [low, high) (``randint(high, size=...)`` too); int64 by default."""
    if high is None:
        low, high = 0, low
    shape = _shape((size,) if isinstance(size, int) else (tuple(size),))
    return _finish(_rng.integers(low, high, shape, dtype=np.int64), dtype, device, False)


def randperm(n, dtype=None, device=None):
    return _finish(_rng.permutation(int(n)).astype(np.int64), dtype, device, False)

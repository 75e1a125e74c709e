"""The one place that picks an implementation for a kernel.

``dispatch`` sends numpy float32/float64 arrays to the compiled C++ module ``pydyfast._C``, cupy
arrays to the CUDA launcher of the kernel family, and anything else (or everything, under
``PYDYFAST_KERNELS=numpy``) to the NumPy reference written beside the op.
"""
import importlib
import os

import numpy as np

_REQUIRE_NATIVE = os.environ.get("PYDYFAST_REQUIRE_NATIVE", "") not in ("", "0")


def _load(name):
    try:
        return importlib.import_module(name), None
    except ImportError as exc:  # a build without a compiler: fall back to the references
        if _REQUIRE_NATIVE:
            raise ImportError(f"pydyfast: the compiled module {name} did not load ({exc}), and "
                              f"PYDYFAST_REQUIRE_NATIVE=1 forbids the NumPy fallback. "
                              f"Reinstall with `pip install .` and a C++ compiler.") from exc
        return None, str(exc)


_C, _C_error = _load("pydyfast._C")
# The autograd engine: engine.py compiled by Cython, or the same file run as Python.
engine, _engine_error = _load("pydyfast._engine")
if engine is None:
    from . import engine

_KERNEL_MODES = ("native", "numpy")
_kernels = os.environ.get("PYDYFAST_KERNELS", "native").strip().lower() or "native"
if _kernels not in _KERNEL_MODES:
    raise ValueError(f"PYDYFAST_KERNELS={_kernels!r}: expected one of {_KERNEL_MODES}")


def set_kernels(mode):
    """Choose the CPU kernels: ``'native'`` (compiled, the default) or ``'numpy'`` (reference)."""
    global _kernels
    if mode not in _KERNEL_MODES:
        raise ValueError(f"set_kernels: mode {mode!r} is not one of {_KERNEL_MODES}")
    _kernels = mode


def get_kernels():
    return _kernels


def native_active():
    """Whether compiled CPU kernels will be used for float32/float64 numpy arrays."""
    return _C is not None and _kernels == "native"


def info():
    """What is loaded: compiled modules, kernel mode, OpenMP threads, CUDA availability."""
    from . import cuda
    return {
        "_C": _C is not None,
        "_C_error": _C_error,
        "_engine": engine.__name__ == "pydyfast._engine",
        "kernels": _kernels,
        "openmp": bool(_C is not None and _C.openmp()),
        "num_threads": get_num_threads(),
        "cuda": cuda.is_available(),
    }


def set_num_threads(n):
    """Set the threads of pydyfast's OpenMP kernels and of numpy's BLAS together."""
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive thread count, got {n}")
    if _C is not None:
        _C.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:
        pass


def get_num_threads():
    return _C.get_num_threads() if _C is not None else 1


_NATIVE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_cuda_launchers = {}


def _cuda_launcher(family, name):
    key = (family, name)
    fn = _cuda_launchers.get(key)
    if fn is None:
        module = importlib.import_module(f"pydyfast.cuda_launch.{family}")
        fn = _cuda_launchers[key] = getattr(module, name)
    return fn


def array_module(a):
    """numpy for numpy arrays (and the numpy scalars that 0-d arithmetic returns), cupy for
    cupy arrays."""
    if type(a) is np.ndarray or isinstance(a, (np.generic, float, int)):
        return np
    from .cuda import cupy_module
    return cupy_module()


def dispatch(*arrays, ref, native=None, cuda=None, **params):
    """Run one kernel on the best implementation for ``arrays[0]``.

    ref: ``ref(xp, *arrays, **params)``, the NumPy/CuPy reference (fallback and oracle).
    native: name of the function in ``pydyfast._C`` with the same arguments and results.
    cuda: ``(family, name)`` of the launcher in ``pydyfast.cuda_launch.<family>``.
    """
    first = arrays[0]
    if type(first) is np.ndarray:
        if native is not None and _C is not None and _kernels == "native" \
                and first.dtype in _NATIVE_DTYPES:
            return getattr(_C, native)(*arrays, **params)
        return ref(np, *arrays, **params)
    xp = array_module(first)
    if cuda is not None and first.dtype in _NATIVE_DTYPES:
        try:
            launcher = _cuda_launcher(*cuda)
        except (ImportError, AttributeError):
            launcher = None
        if launcher is not None:
            return launcher(*[xp.ascontiguousarray(a) if hasattr(a, "dtype") else a
                              for a in arrays], **params)
    return ref(xp, *arrays, **params)

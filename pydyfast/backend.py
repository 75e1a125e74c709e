"""The one place that picks an implementation for a kernel.

``dispatch`` sends numpy float32/float64 arrays to the compiled C++ module ``pydyfast._C``, cupy
arrays to the CUDA launcher of the kernel family, and anything else (or everything, under
``PYDYFAST_KERNELS=numpy``) to the NumPy reference written beside the op.
"""
import importlib.util
import os

import numpy as np

from . import compiled, process

_REQUIRE_NATIVE = compiled.REQUIRE_NATIVE


# Before _C loads: libgomp reads OMP_WAIT_POLICY then (see pydyfast/process.py).
_process_defaults = process.apply()
_C, _C_error = compiled.load("_C")
# The autograd engine: engine.py compiled by Cython, or the same file run as Python.
engine, _engine_error = compiled.load("_engine")
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


def native_module():
    """The compiled module ``pydyfast._C`` when its kernels are in use, else None: for callers
    whose whole computation is one compiled object (the Llama decoder), not a dispatched op."""
    return _C if native_active() else None


def info():
    """What is loaded: compiled modules, kernel mode, OpenMP threads, CUDA availability."""
    from . import cuda
    return {
        "_C": _C is not None,
        "_C_error": _C_error,
        "_engine": engine.__name__ == "pydyfast._engine",
        "kernels": _kernels,
        "openmp": bool(_C is not None and _C.openmp()),
        "process_defaults": dict(_process_defaults),
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
# Every CUDA launcher by name, imported now: an import error in one is an error here, not a
# family that silently falls back (the modules import cupy only when a launcher runs).
from .cuda_launch import find as _cuda_launcher  # noqa: E402


def _require_cuda_kernels():
    """Under PYDYFAST_REQUIRE_NATIVE=1 with cupy installed, the .cu sources must be found now,
    not at the first kernel launch."""
    if not _REQUIRE_NATIVE or importlib.util.find_spec("cupy") is None:
        return
    from .cuda_kernels import kernel_dir
    try:
        kernel_dir()
    except FileNotFoundError as exc:
        raise ImportError(f"pydyfast: {exc}, and PYDYFAST_REQUIRE_NATIVE=1 forbids running the "
                          f"references on the GPU") from exc


_require_cuda_kernels()


def array_module(a):
    """numpy for numpy arrays (and the numpy scalars that 0-d arithmetic returns), cupy for
    cupy arrays."""
    if type(a) is np.ndarray or isinstance(a, (np.generic, float, int)):
        return np
    from .cuda import cupy_module
    return cupy_module()


def _contiguous(xp, array_type, values):
    """``values`` (a list) with each strided array of ``array_type`` copied to C order; other
    values (None, scalars, 0-d and contiguous arrays) pass through untouched."""
    return [v if type(v) is not array_type or v.flags.c_contiguous else xp.ascontiguousarray(v)
            for v in values]


def _contiguous_params(xp, array_type, params):
    if not params:
        return params
    return dict(zip(params, _contiguous(xp, array_type, params.values())))


def dispatch(*arrays, ref, native=None, gpu=True, **params):
    """Run one kernel on the best implementation for ``arrays[0]``.

    ref: ``ref(xp, *arrays, **params)``, the NumPy/CuPy reference (fallback and oracle).
    native: the kernel's name: the function of ``pydyfast._C`` for numpy float32/float64 and the
        launcher of ``pydyfast.cuda_launch`` for cupy arrays, same arguments and results.
    gpu: False when this call must run the reference on cupy arrays (the op knows when its
        kernel does not apply, e.g. decode attention beyond the kernel's shared memory).
    ``PYDYFAST_KERNELS=numpy`` runs the reference on both devices.

    The compiled paths receive every array argument (positional or keyword) C-contiguous: a
    strided one is copied here, once, so the kernels and launchers never copy or convert.
    A missing launcher is a LookupError, never a silent reference run.
    """
    first = arrays[0]
    if type(first) is np.ndarray:
        if native is not None and _C is not None and _kernels == "native" \
                and first.dtype in _NATIVE_DTYPES:
            return getattr(_C, native)(*_contiguous(np, np.ndarray, arrays),
                                       **_contiguous_params(np, np.ndarray, params))
        return ref(np, *arrays, **params)
    xp = array_module(first)
    if gpu and native is not None and _kernels == "native" and first.dtype in _NATIVE_DTYPES:
        return _cuda_launcher(native)(*_contiguous(xp, xp.ndarray, arrays),
                                      **_contiguous_params(xp, xp.ndarray, params))
    return ref(xp, *arrays, **params)

"""The CUDA C kernels of ``kernels/<family>.cu``, compiled by CuPy (NVRTC) on first use.

Each family file is self-contained except for ``#include "common.cuh"``, whose text is pasted in
here: CuPy's kernel cache is keyed on the source string and does not notice a changed header.
Every kernel is a one-parameter template ``template <typename T> __global__ void name(...)``;
``name<float>`` and ``name<double>`` are instantiated through ``name_expressions``. One
``cupy.RawModule`` per file per device is created lazily and kept for the process (CuPy also
caches the binary on disk, so a second process does not recompile).

The NVRTC compile test (tests/cuda/test_nvrtc_compile.py) compiles exactly ``source(path)`` with
``name_expressions(text)`` and ``COMPILE_OPTIONS``, so what CI checks is what CuPy runs.
"""
import importlib.resources
import re
from pathlib import Path

import numpy as np

COMPILE_OPTIONS = ("-std=c++17",)
_INCLUDE = re.compile(r'^[ \t]*#include[ \t]+"common\.cuh"[ \t]*$', re.MULTILINE)
_TEMPLATE_KERNEL = re.compile(r"template\s*<\s*typename\s+T\s*>\s*__global__\s+void\s+(\w+)\s*\(")
_CTYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

_modules = {}    # (family, device id) -> cupy.RawModule
_functions = {}  # (family, name, dtype, device id) -> cupy.RawKernel


def kernel_dir():
    """The folder that holds the ``.cu`` files.

    A source checkout (``<root>/kernels`` beside ``<root>/pydyfast``) wins, so that an edited
    kernel is used without reinstalling; then ``kernels/`` in each entry of ``pydyfast.__path__``
    (an editable install spreads the package over several folders); then importlib.resources.
    """
    import pydyfast
    entries = [Path(entry) for entry in pydyfast.__path__]
    candidates = [e.parent / "kernels" for e in entries if (e.parent / "pyproject.toml").is_file()]
    candidates += [e / "kernels" for e in entries]
    for candidate in candidates:
        if (candidate / "common.cuh").is_file():
            return candidate
    resource = importlib.resources.files("pydyfast") / "kernels"
    if resource.joinpath("common.cuh").is_file():
        return Path(str(resource))
    raise FileNotFoundError("pydyfast: the CUDA kernel sources (pydyfast/kernels/*.cu) are not "
                            "installed; reinstall pydyfast with `pip install .`")


def source(path):
    """The text of the ``.cu`` file at ``path`` with common.cuh (from the same folder) inlined."""
    path = Path(path)
    text = path.read_text()
    common = (path.parent / "common.cuh").read_text()
    # a function as replacement, so backslashes in the header are not read as group references
    return _INCLUDE.sub(lambda _: common, text, count=1)


def name_expressions(text):
    """``name<float>`` and ``name<double>`` of every templated ``__global__`` kernel in text."""
    names = _TEMPLATE_KERNEL.findall(text)
    return [f"{name}<{ctype}>" for name in names for ctype in ("float", "double")]


def _module(family, device_id):
    key = (family, device_id)
    module = _modules.get(key)
    if module is None:
        import cupy
        path = kernel_dir() / f"{family}.cu"
        if not path.is_file():
            raise FileNotFoundError(f"pydyfast: no CUDA kernel file {path}")
        code = source(path)
        module = cupy.RawModule(code=code, options=COMPILE_OPTIONS,
                                name_expressions=name_expressions(code))
        _modules[key] = module
    return module


def kernel(family, name, dtype):
    """The compiled ``name<float|double>`` of ``kernels/<family>.cu`` on the current device."""
    import cupy
    dtype = np.dtype(dtype)
    device_id = cupy.cuda.runtime.getDevice()
    key = (family, name, dtype, device_id)
    fn = _functions.get(key)
    if fn is None:
        ctype = _CTYPES.get(dtype)
        if ctype is None:
            raise TypeError(f"pydyfast CUDA kernel {family}.{name}: expected float32 or float64, "
                            f"got {dtype}")
        fn = _functions[key] = _module(family, device_id).get_function(f"{name}<{ctype}>")
    return fn


BLOCK = 256  # threads per block of the elementwise (grid-stride) kernels


def grid_1d(n, block=BLOCK):
    """Blocks for a grid-stride loop over ``n`` items (the loop covers any excess)."""
    return (max(1, min((int(n) + block - 1) // block, 65535 * 8)),)


def row_block(n):
    """Threads per block of the row kernels (one block per row): a power of two, 32..1024,
    near ``n`` so short rows do not leave most threads idle."""
    threads = 32
    while threads < n and threads < 1024:
        threads *= 2
    return threads


def scalar(dtype, value):
    """``value`` as the C type of ``dtype`` (CuPy would pass a Python float as a double)."""
    return np.dtype(dtype).type(value)

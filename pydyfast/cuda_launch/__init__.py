"""CUDA launchers, one module per kernel family (``pydyfast.cuda_launch.<family>``).

Each launcher has the name, arguments and results of the C++ function of ``pydyfast._C`` that
``backend.dispatch(..., cuda=(family, name))`` stands in for, on C-contiguous cupy arrays. It
casts every scalar to the C type of its kernel parameter (CuPy does not check kernel arguments:
a Python int goes in as a 64-bit integer, a float as a double) and states the grid/block of the
contract at the top of ``kernels/<family>.cu``.
"""
import importlib
import math
import operator

INT64_MAX = 2**63 - 1
FAMILIES = ("im2col", "pool", "softmax", "norm", "rnn", "attention")
_by_name = None


def find(name):
    """The launcher called ``name`` in any family module; AttributeError when there is none."""
    global _by_name
    if _by_name is None:
        _by_name = {}
        for family in FAMILIES:
            module = importlib.import_module(f"{__name__}.{family}")
            _by_name.update({key: fn for key, fn in vars(module).items()
                             if callable(fn) and not key.startswith("_")
                             and getattr(fn, "__module__", None) == module.__name__})
    try:
        return _by_name[name]
    except KeyError:
        raise AttributeError(f"pydyfast.cuda_launch: no launcher named {name!r}") from None


def checked_sizes(op, *values, elem_bytes=1):
    """The launch-side mirror of csrc/common.h's checked_size: every value an int (not a bool or
    float) in [0, 2**63), and their product times ``elem_bytes`` too, because the kernels index
    in 64-bit integers and an overflow there writes outside the buffer. Returns the product."""
    for v in values:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{op}: sizes must be integers, got {v!r}")
        if not 0 <= operator.index(v) <= INT64_MAX:
            raise ValueError(f"{op}: size {v} is outside [0, 2**63)")
    count = math.prod(operator.index(v) for v in values)
    if count * elem_bytes > INT64_MAX:
        raise ValueError(f"{op}: sizes {tuple(values)} overflow int64")
    return count


def require_shape(op, name, array, shape):
    """Raise ValueError unless ``array.shape == shape``: the CUDA kernels trust their launcher
    for every extent (the C++ ones check their own)."""
    if tuple(array.shape) != tuple(shape):
        raise ValueError(f"{op}: expected {name} of shape {tuple(shape)}, got {tuple(array.shape)}")

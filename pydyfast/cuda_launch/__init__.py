"""CUDA launchers, one module per kernel family (``pydyfast.cuda_launch.<family>``).

Each launcher has the name, arguments and results of the C++ function of ``pydyfast._C`` that
``backend.dispatch(..., cuda=(family, name))`` stands in for, on C-contiguous cupy arrays. It
casts every scalar to the C type of its kernel parameter (CuPy does not check kernel arguments:
a Python int goes in as a 64-bit integer, a float as a double) and states the grid/block of the
contract at the top of ``kernels/<family>.cu``.
"""
import importlib

FAMILIES = ("im2col", "pool", "softmax", "norm", "rnn", "attention", "resample")
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

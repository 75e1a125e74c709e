"""CUDA launchers, one module per kernel family (``pydyfast.cuda_launch.<family>``).

Each launcher has the name, arguments and results of the C++ function of ``pydyfast._C`` that
it stands in for, on C-contiguous cupy arrays (``backend.dispatch`` makes them so), and launches
the kernel of the same name in ``kernels/<family>.cu``. It casts every scalar to the C type of
its kernel parameter (CuPy does not check kernel arguments: a Python int goes in as a 64-bit
integer, a float as a double) and states the grid/block of the contract at the top of the .cu
file.

The family modules need no cupy to import (they import it inside each launcher), so all of
them are imported here, at once: a broken launcher module is an ImportError when pydyfast
loads, not a family that silently runs its reference on the GPU.
"""
import importlib

FAMILIES = ("im2col", "pool", "softmax", "norm", "rnn", "attention", "special", "scan",
            "gather", "sort", "resample")


def _collect():
    """{launcher name: function} over every family module; a name defined twice is an error."""
    table = {}
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        for key, fn in vars(module).items():
            if callable(fn) and not key.startswith("_") \
                    and getattr(fn, "__module__", None) == module.__name__:
                if key in table:
                    raise ImportError(f"pydyfast.cuda_launch: launcher {key!r} is defined in "
                                      f"{table[key].__module__} and {module.__name__}")
                table[key] = fn
    return table


LAUNCHERS = _collect()


def find(name):
    """The launcher called ``name``; LookupError naming the families when there is none."""
    try:
        return LAUNCHERS[name]
    except KeyError:
        raise LookupError(f"pydyfast.cuda_launch: no CUDA launcher named {name!r} in the "
                          f"families {', '.join(FAMILIES)}; add one to "
                          f"pydyfast/cuda_launch/<family>.py (and its kernel to "
                          f"kernels/<family>.cu), or dispatch with gpu=False to run the "
                          f"reference on the GPU") from None

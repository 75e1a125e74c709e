"""PyDyNet 1.1's API on pydyfast: ``import pydyfast.pydynet as pdn`` is the one-line change for a
PyDyNet script.

This is a thin namespace: names and adapters over pydyfast's own ops, layers and optimizers,
never a second implementation. ``pydyfast`` itself follows PyTorch where PyTorch has a name;
where PyDyNet 1.1 behaves differently (NumPy dtype inference and promotion, ``split`` by
sections, float64 parameters by default, the layout of a batch-first RNN's final state, ...)
this namespace gives PyDyNet's behaviour. README.md lists every difference.

PyDyNet's implementation modules (``pydynet.core.tensor``, ``pydynet.nn.modules.rnn``,
``pydynet.optim.optimizer``, ...) are importable here too, as views of the namespaces that hold
their names.
"""
import sys
import types

from . import autograd, core, cuda, data, nn, optim, special  # noqa: F401
from .autograd import enable_grad, no_grad  # noqa: F401
from .core import (Tensor, abs, add, argmax, argmin, concat, div, dsplit, exp,  # noqa: F401,A004
                   hsplit, log, matmul, max, maximum, mean, min, minimum, mul, pow, reshape,
                   sigmoid, sign, split, sqrt, square, squeeze, sub, sum, swapaxes, tanh,
                   transpose, unsqueeze, vsplit)
from .cuda import Device  # noqa: F401
from .special import empty, ones, rand, randn, uniform, zeros  # noqa: F401

__all__ = [
    "Tensor", "add", "sub", "mul", "div", "pow", "matmul", "abs", "sum", "mean", "min", "max",
    "argmax", "argmin", "maximum", "minimum", "exp", "log", "sign", "reshape", "transpose",
    "swapaxes", "concat", "sigmoid", "tanh", "sqrt", "square", "vsplit", "hsplit", "dsplit",
    "split", "unsqueeze", "squeeze", "zeros", "ones", "rand", "randn", "empty", "uniform",
    "Device", "enable_grad", "no_grad",
]


def _view_module(name, *sources):
    """Register ``pydyfast.pydynet.<name>`` as a module whose attributes are looked up in
    ``sources`` (namespace modules), in order."""

    def __getattr__(attr):
        for source in sources:
            if hasattr(source, attr):
                return getattr(source, attr)
        raise AttributeError(f"module {__name__}.{name} has no attribute {attr!r}")

    module = types.ModuleType(f"{__name__}.{name}", f"PyDyNet's {name}: a view of this namespace.")
    module.__getattr__ = __getattr__
    sys.modules[module.__name__] = module
    parent, _, leaf = name.rpartition(".")
    setattr(sys.modules[f"{__name__}.{parent}"] if parent else sys.modules[__name__], leaf,
            module)
    return module


_top = sys.modules[__name__]
_view_module("core.tensor", core, _top, autograd)
_view_module("core.function", core)
_view_module("nn.init", nn.init, _top)
_view_module("nn.parameter", nn, _top)
_view_module("nn.modules", nn)
for _name in ("activation", "conv", "dropout", "linear", "loss", "module", "norm", "pool", "rnn"):
    _view_module(f"nn.modules.{_name}", nn, _top, cuda, autograd)
_view_module("optim.optimizer", optim, _top)
_view_module("optim.lr_scheduler", optim, _top)

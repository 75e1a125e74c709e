"""``pydynet.nn``: PyDyNet 1.1's layers as pydyfast's layers with PyDyNet's constructors.

Each layer is a subclass of the pydyfast layer (same parameters, same kernels) that takes
PyDyNet's arguments and defaults: ``device=``/``dtype=`` keywords with float64 parameters by
default (PyDyNet's parameters are NumPy float64 arrays), its positional order and default
values (``LeakyReLU(alpha=0.1)``, norms with ``eps=1e-6``), and its returned layouts (a
batch-first RNN's final state is (batch, layers, hidden)).
"""
import numpy as np

from ... import nn as _nn
from ...nn import Module, ModuleList, Parameter, Sequential, init  # noqa: F401
from . import functional
from .functional import cross_entropy_loss as _cross_entropy_loss
from .functional import mse_loss as _mse_loss
from .functional import nll_loss as _nll_loss
from .functional import softmax as _softmax


def _pydynet_layer(layer, positional, dropped=(), **defaults):
    """A subclass of ``layer`` built with PyDyNet's constructor.

    ``positional`` names PyDyNet's positional arguments in order, ``defaults`` holds PyDyNet's
    default values where they differ from PyTorch's, and ``dropped`` names the arguments
    PyDyNet accepts but does not use."""

    def __init__(self, *args, device=None, dtype=None, **kwargs):
        if len(args) > len(positional):
            raise TypeError(f"{layer.__name__}: takes at most {len(positional)} positional "
                            f"arguments {positional}, got {len(args)}")
        options = {**defaults, **dict(zip(positional, args)), **kwargs}
        for name in dropped:
            options.pop(name, None)
        layer.__init__(self, **options, device=device,
                       dtype=np.float64 if dtype is None else dtype)

    return type(layer.__name__, (layer,), {"__init__": __init__, "__module__": __name__,
                                            "__doc__": layer.__doc__})


class Linear(_pydynet_layer(_nn.Linear, ("in_features", "out_features", "bias"))):
    """PyDyNet's Linear: ``x @ weight + bias`` with an (in_features, out_features) weight."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight = Parameter(self.weight.data.T.copy())

    def forward(self, x):
        return functional.linear(x, self.weight, self.bias)


class Embedding(_pydynet_layer(_nn.Embedding, ("num_embeddings", "embedding_dim",
                                               "padding_idx"))):
    """PyDyNet's Embedding: positions holding ``padding_idx`` read as zeros."""

    def forward(self, x):
        return functional.embedding(x, self.weight, self.padding_idx)


Conv1d = _pydynet_layer(_nn.Conv1d, ("in_channels", "out_channels", "kernel_size", "stride",
                                     "padding", "bias"))
Conv2d = _pydynet_layer(_nn.Conv2d, ("in_channels", "out_channels", "kernel_size", "stride",
                                     "padding", "bias"))
BatchNorm1d = _pydynet_layer(_nn.BatchNorm1d, ("num_features", "eps", "momentum"), eps=1e-6)
BatchNorm2d = _pydynet_layer(_nn.BatchNorm2d, ("num_features", "eps", "momentum"), eps=1e-6)
LayerNorm = _pydynet_layer(_nn.LayerNorm, ("normalized_shape", "eps", "momentum"),
                           dropped=("momentum",), eps=1e-6)
RMSNorm = _pydynet_layer(_nn.RMSNorm, ("normalized_shape", "eps"), eps=1e-6)
RNNCell = _pydynet_layer(_nn.RNNCell, ("input_size", "hidden_size", "bias", "nonlinearity"))
LSTMCell = _pydynet_layer(_nn.LSTMCell, ("input_size", "hidden_size", "bias"))
GRUCell = _pydynet_layer(_nn.GRUCell, ("input_size", "hidden_size", "bias"))


def _batch_first_state(layer):
    """``layer`` (an RNN) whose final state, for batch-first 3-d input, is returned as
    (batch, layers * directions, hidden), PyDyNet's layout; PyTorch's is (layers, batch, hidden)
    whatever ``batch_first`` is. The initial state is taken in PyTorch's layout by both."""

    def forward(self, x, hx=None):
        output, state = layer.forward(self, x, hx)
        if not (self.batch_first and x.ndim == 3):
            return output, state
        if isinstance(state, tuple):
            return output, tuple(s.swapaxes(0, 1) for s in state)
        return output, state.swapaxes(0, 1)

    return type(layer.__name__, (layer,), {"forward": forward, "__module__": __name__,
                                            "__doc__": layer.__doc__})


_RNN_ARGS = ("input_size", "hidden_size", "num_layers")
RNN = _batch_first_state(_pydynet_layer(_nn.RNN, _RNN_ARGS + ("nonlinearity", "bias",
                                                              "batch_first", "bidirectional")))
LSTM = _batch_first_state(_pydynet_layer(_nn.LSTM, _RNN_ARGS + ("bias", "batch_first",
                                                                "bidirectional")))
GRU = _batch_first_state(_pydynet_layer(_nn.GRU, _RNN_ARGS + ("bias", "batch_first",
                                                              "bidirectional")))

Dropout, Sigmoid, Tanh, ReLU = _nn.Dropout, _nn.Sigmoid, _nn.Tanh, _nn.ReLU
MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d = (_nn.MaxPool1d, _nn.MaxPool2d, _nn.AvgPool1d,
                                              _nn.AvgPool2d)


class LeakyReLU(_nn.LeakyReLU):
    """PyDyNet's LeakyReLU: the slope is ``alpha``, 0.1 by default (PyTorch: 0.01)."""

    def __init__(self, alpha=0.1):
        super().__init__(negative_slope=alpha)


class Softmax(Module):
    """PyDyNet's Softmax: over ``axis``, or over every element when ``axis`` is None."""

    def __init__(self, axis=None):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return _softmax(x, self.axis)


class Loss(Module):
    """PyDyNet's loss base: ``reduction`` ('mean' or 'sum') is the only argument."""

    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean' or 'sum', "
                             f"got {reduction!r}")
        self.reduction = reduction


class MSELoss(Loss):
    def forward(self, y_pred, y_true):
        return _mse_loss(y_pred, y_true, reduction=self.reduction)


class NLLLoss(Loss):
    def forward(self, y_pred, y_true):
        return _nll_loss(y_pred, y_true, reduction=self.reduction)


class CrossEntropyLoss(Loss):
    def forward(self, y_pred, y_true):
        return _cross_entropy_loss(y_pred, y_true, reduction=self.reduction)

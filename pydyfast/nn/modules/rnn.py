"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional) and their single-step cells,
with PyTorch's parameter names, shapes, initialisation and return values, so state dicts load."""
import math


from ...backend import array_module
from ...creation import generator
from ...ops.rnn import (GATE_BLOCKS, gru_cell, lstm_cell, rnn_relu_cell, rnn_sequence,
                         rnn_tanh_cell)
from ...ops.shape import concatenate, stack
from ...tensor import Tensor
from ._params import factory_kwargs, uniform_parameter
from .module import Module

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

def _dropout(x, p):
    """Inverted dropout between layers: zero with probability p, scale the rest by 1/(1-p)."""
    keep = (generator().random(x.shape) >= p).astype(x.dtype) / (1 - p)
    return x * Tensor(keep)


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU. Parameters per layer k and direction (suffix
    '_reverse' for the second): weight_ih_l{k} (G*H, in), weight_hh_l{k} (G*H, H),
    bias_ih_l{k}, bias_hh_l{k} (G*H,), with G gate blocks (GRU 3, LSTM 4, RNN 1)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        factory = factory_kwargs(name, device, dtype)
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive, "
                             f"got {input_size}, {hidden_size}, {num_layers}")
        if not 0 <= dropout < 1:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        directions = 2 if bidirectional else 1
        rows, bound = GATE_BLOCKS[mode] * hidden_size, 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = [("weight_ih", (rows, layer_in)), ("weight_hh", (rows, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
                for kind, shape in shapes:
                    setattr(self, f"{kind}_l{layer}{suffix}",
                            uniform_parameter(shape, bound, **factory))

    def _layer_parameters(self, layer, suffix):
        get = self._parameters.get
        return (get(f"weight_ih_l{layer}{suffix}"), get(f"weight_hh_l{layer}{suffix}"),
                get(f"bias_ih_l{layer}{suffix}"), get(f"bias_hh_l{layer}{suffix}"))

    def _initial_states(self, x, hx, batch, unbatched):
        """(num_layers * directions, B, H) initial state(s), zeros when hx is None."""
        name = type(self).__name__
        shape = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        lstm = self.mode == "lstm"
        if hx is None:
            zeros = Tensor._wrap(array_module(x.data).zeros(shape, x.dtype))
            return (zeros, zeros) if lstm else (zeros,)
        states = tuple(hx) if lstm else (hx,)
        if lstm and len(states) != 2:
            raise ValueError(f"{name}: expected hx = (h_0, c_0), got {len(states)} tensors")
        expected = shape[:1] + shape[2:] if unbatched else shape
        for s in states:
            if not isinstance(s, Tensor) or s.shape != expected:
                raise ValueError(f"{name}: expected initial state of shape {expected}, got "
                                 f"{getattr(s, 'shape', type(s).__name__)}")
        return tuple(s.reshape(shape) for s in states) if unbatched else states

    def forward(self, input, hx=None):
        """input: (T, B, in), (B, T, in) with batch_first, or unbatched (T, in).
        hx: (layers * directions, B, H) (LSTM: a pair (h_0, c_0)), None for zeros.
        Returns (output (T, B, directions * H), h_n) (LSTM: (output, (h_n, c_n)))."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (2, 3) \
                or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input (T, B, {self.input_size}) (batch_first: "
                             f"(B, T, {self.input_size})) or (T, {self.input_size}), got "
                             f"{getattr(input, 'shape', type(input).__name__)}")
        unbatched = input.ndim == 2
        x = input.reshape(input.shape[0], 1, input.shape[1]) if unbatched else input
        if self.batch_first and not unbatched:
            x = x.transpose(1, 0, 2)
        states = self._initial_states(x, hx, x.shape[1], unbatched)
        directions = ("", "_reverse") if self.bidirectional else ("",)
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.training and self.dropout > 0:
                x = _dropout(x, self.dropout)
            outputs = []
            for d, suffix in enumerate(directions):
                k = layer * len(directions) + d
                h0 = tuple(s[k] for s in states)
                out, final = rnn_sequence(self.mode, x, h0 if self.mode == "lstm" else h0[0],
                                          *self._layer_parameters(layer, suffix),
                                          reverse=d == 1)
                outputs.append(out)
                finals.append(final if self.mode == "lstm" else (final,))
            x = outputs[0] if len(outputs) == 1 else concatenate(outputs, axis=-1)
        h_n = tuple(stack([f[i] for f in finals], axis=0) for i in range(len(states)))
        if self.batch_first and not unbatched:
            x = x.transpose(1, 0, 2)
        if unbatched:
            x = x.reshape(x.shape[0], x.shape[2])
            h_n = tuple(h.reshape(h.shape[0], h.shape[2]) for h in h_n)
        return x, (h_n if self.mode == "lstm" else h_n[0])

    def extra_repr(self):
        """torch's repr: the sizes, then only the options that differ from the defaults."""
        options = [f"num_layers={self.num_layers}" * (self.num_layers != 1),
                   f"bias={self.bias}" * (not self.bias),
                   f"batch_first={self.batch_first}" * bool(self.batch_first),
                   f"dropout={self.dropout}" * (self.dropout != 0),
                   f"bidirectional={self.bidirectional}" * bool(self.bidirectional)]
        return ", ".join([f"{self.input_size}, {self.hidden_size}"] + [o for o in options if o])


class RNN(RNNBase):
    """Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act 'tanh' or 'relu'."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("rnn_" + nonlinearity, input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gate order i, f, g, o (see ``lstm_cell``)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("lstm", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gate order r, z, n (see ``gru_cell``)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("gru", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)


class _CellBase(Module):
    """One time step: weight_ih (G*H, in), weight_hh (G*H, H), bias_ih, bias_hh (G*H,)."""

    def __init__(self, mode, input_size, hidden_size, bias, device, dtype):
        super().__init__()
        factory = factory_kwargs(type(self).__name__, device, dtype)
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be "
                             f"positive, got {input_size}, {hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows, bound = GATE_BLOCKS[mode] * hidden_size, 1 / math.sqrt(hidden_size)
        self.weight_ih = uniform_parameter((rows, input_size), bound, **factory)
        self.weight_hh = uniform_parameter((rows, hidden_size), bound, **factory)
        if bias:
            self.bias_ih = uniform_parameter((rows,), bound, **factory)
            self.bias_hh = uniform_parameter((rows,), bound, **factory)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}" + ", bias=False" * (not self.bias)
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        return text + f", nonlinearity={nonlinearity}" * (nonlinearity != "tanh")


class RNNCell(_CellBase):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh); input (B, in) or (in,), hx like h or None."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__("rnn_" + nonlinearity, input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        return cell(input, hx, *self._weights())


class LSTMCell(_CellBase):
    """One LSTM step; hx = (h, c) or None; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("lstm", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return lstm_cell(input, hx, *self._weights())


class GRUCell(_CellBase):
    """One GRU step; returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("gru", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return gru_cell(input, hx, *self._weights())

"""Recurrent cells (GRU, LSTM, Elman RNN) and whole sequences, with PyTorch's formulas and gate
order.

One time step is one recorded op: the recurrent GEMM ``h W_hh^T`` runs in numpy's BLAS inside the
step, and the gate math (GRU r, z, n; LSTM i, f, g, o) is one fused C++ pass forward and backward.
A sequence projects the input of ALL time steps with one GEMM before the time loop, then runs the
step per time; gradients through time come from the ordinary autograd graph of the steps.
"""
from ..autograd import Function
from ..backend import array_module, dispatch
from ..tensor import Tensor
from .linalg import Linear, gemm
from .shape import split, stack

__all__ = ["gru_cell", "lstm_cell", "rnn_tanh_cell", "rnn_relu_cell", "rnn_sequence"]

GATE_BLOCKS = {"gru": 3, "lstm": 4, "rnn_tanh": 1, "rnn_relu": 1}  # (G*H, .) weight rows


# ----------------------------------------------------------------------------- references
def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))


def _gru_gates_fwd_ref(xp, gi, gh, h):
    """r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r gh_n), h' = (1 - z) n + z h.
    gi, gh: (B, 3H); h: (B, H). Returns h' and saved = [r, z, n, gh_n] (B, 4H)."""
    H = h.shape[1]
    r = _sigmoid(xp, gi[:, :H] + gh[:, :H])
    z = _sigmoid(xp, gi[:, H:2 * H] + gh[:, H:2 * H])
    hn = gh[:, 2 * H:]
    n = xp.tanh(gi[:, 2 * H:] + r * hn)
    return n + z * (h - n), xp.concatenate([r, z, n, hn], axis=1)


def _gru_gates_bwd_ref(xp, saved, h, gy):
    """Returns (d gi, d gh, d h) for the gradient gy of h'."""
    r, z, n, hn = xp.split(saved, 4, axis=1)
    dn = gy * (1 - z) * (1 - n * n)
    dz = gy * (h - n) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    return (xp.concatenate([dr, dz, dn], axis=1), xp.concatenate([dr, dz, dn * r], axis=1),
            gy * z)


def _lstm_gates_fwd_ref(xp, gi, gh, c):
    """[i, f, g, o] = gi + gh (B, 4H); c' = s(f) c + s(i) tanh(g); h' = s(o) tanh(c').
    Returns h', c' and saved = [i, f, g, o, tanh(c')] (B, 5H) after the nonlinearities."""
    pre = xp.split(gi + gh, 4, axis=1)
    i, f, o = _sigmoid(xp, pre[0]), _sigmoid(xp, pre[1]), _sigmoid(xp, pre[3])
    g = xp.tanh(pre[2])
    c_new = f * c + i * g
    tc = xp.tanh(c_new)
    return o * tc, c_new, xp.concatenate([i, f, g, o, tc], axis=1)


def _lstm_gates_bwd_ref(xp, saved, c, gh_out, gc_out):
    """Returns (d gates, d c) for the gradients of h' and c'; d gates is both d gi and d gh."""
    i, f, g, o, tc = xp.split(saved, 5, axis=1)
    dc = gc_out + gh_out * o * (1 - tc * tc)
    dgates = xp.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                             gh_out * tc * o * (1 - o)], axis=1)
    return dgates, dc * f


# ----------------------------------------------------------------------------- Functions
def _recurrent_input(h, w_hh, bias):
    """gh = h W_hh^T (+ b_hh)."""
    xp = array_module(h)
    gh = gemm(h, w_hh.T, bias=bias[0] if bias else None)
    return xp, h, gh


def _recurrent_grads(ctx, dgh, dh, h, w_hh):
    """Adds the path through gh = h W_hh^T + b_hh: returns (d h, d W_hh, d b_hh or nothing)."""
    needs = ctx.needs_input_grad
    dh = dh + gemm(dgh, w_hh)
    dw = gemm(dgh.T, h) if needs[-2 if ctx.has_bias else -1] else None
    if ctx.has_bias:
        return dh, dw, (dgh.sum(axis=0) if needs[-1] else None)
    return dh, dw


class GRUStep(Function):
    """One GRU step from the projected input gi (B, 3H) or (1, B, 3H):
    (gi, h, W_hh[, b_hh]) -> h'."""

    @staticmethod
    def forward(ctx, gi, h, w_hh, *bias):
        xp, h, gh = _recurrent_input(h, w_hh, bias)
        gi2 = gi.reshape(gh.shape)
        h_new, saved = dispatch(gi2, gh, h, ref=_gru_gates_fwd_ref, native="gru_gates_fwd")
        ctx.save_for_backward(saved, h, w_hh)
        ctx.gi_shape, ctx.has_bias = gi.shape, bool(bias)
        return h_new

    @staticmethod
    def backward(ctx, gy):
        saved, h, w_hh = ctx.saved_tensors
        dgi, dgh, dh = dispatch(saved, h, gy,
                                ref=_gru_gates_bwd_ref, native="gru_gates_bwd")
        return (dgi.reshape(ctx.gi_shape),) + _recurrent_grads(ctx, dgh, dh, h, w_hh)


class LSTMStep(Function):
    """One LSTM step: (gi (B, 4H) or (1, B, 4H), h, c, W_hh[, b_hh]) -> (h', c')."""

    @staticmethod
    def forward(ctx, gi, h, c, w_hh, *bias):
        xp, h, gh = _recurrent_input(h, w_hh, bias)
        gi2 = gi.reshape(gh.shape)
        h_new, c_new, saved = dispatch(gi2, gh, c, ref=_lstm_gates_fwd_ref,
                                       native="lstm_gates_fwd")
        ctx.save_for_backward(saved, h, c, w_hh)
        ctx.gi_shape, ctx.has_bias = gi.shape, bool(bias)
        return h_new, c_new

    @staticmethod
    def backward(ctx, gh_out, gc_out):
        saved, h, c, w_hh = ctx.saved_tensors
        dgates, dc = dispatch(saved, c, gh_out, gc_out,
                              ref=_lstm_gates_bwd_ref, native="lstm_gates_bwd")
        dh, *rest = _recurrent_grads(ctx, dgates, 0, h, w_hh)
        return (dgates.reshape(ctx.gi_shape), dh, dc, *rest)


class ElmanStep(Function):
    """One Elman RNN step: h' = act(gi + h W_hh^T + b_hh) with act tanh or relu."""

    @staticmethod
    def forward(ctx, gi, h, w_hh, *bias, relu):
        xp, h, gh = _recurrent_input(h, w_hh, bias)
        gh += gi.reshape(gh.shape)
        h_new = xp.maximum(gh, 0) if relu else xp.tanh(gh)
        ctx.save_for_backward(h_new, h, w_hh)
        ctx.gi_shape, ctx.has_bias, ctx.relu = gi.shape, bool(bias), relu
        return h_new

    @staticmethod
    def backward(ctx, gy):
        h_new, h, w_hh = ctx.saved_tensors
        da = gy * (h_new > 0) if ctx.relu else gy * (1 - h_new * h_new)
        return (da.reshape(ctx.gi_shape),) + _recurrent_grads(ctx, da, 0, h, w_hh)


def _step(mode, gi, state, w_hh, b_hh):
    """New state from the projected input gi: h for GRU/RNN, (h, c) for LSTM."""
    bias = () if b_hh is None else (b_hh,)
    if mode == "gru":
        return GRUStep.apply(gi, state, w_hh, *bias)
    if mode == "lstm":
        return LSTMStep.apply(gi, state[0], state[1], w_hh, *bias)
    return ElmanStep.apply(gi, state, w_hh, *bias, relu=mode == "rnn_relu")


# ----------------------------------------------------------------------------- checks
def _check_weights(op, mode, input_size, w_ih, w_hh, b_ih, b_hh):
    for name, t in (("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    gates = GATE_BLOCKS[mode]
    H = w_hh.shape[0] // gates if w_hh.ndim == 2 else -1  # hidden size from the gate rows
    expected = {"w_ih": (gates * H, input_size), "w_hh": (gates * H, H),
                "b_ih": (gates * H,), "b_hh": (gates * H,)}
    for name, t in (("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh)):
        if t is not None and t.shape != expected[name]:
            raise ValueError(f"{op}: expected {name} of shape {expected[name]} for input size "
                             f"{input_size} and hidden size {H}, got {t.shape}")
        if t is not None and t.dtype != w_ih.dtype:
            raise TypeError(f"{op}: {name} is {t.dtype}, expected {w_ih.dtype} like w_ih")
    return H


def _check_state(op, name, t, shape, dtype):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if t.shape != shape:
        raise ValueError(f"{op}: expected {name} of shape {shape}, got {t.shape}")
    if t.dtype != dtype:
        raise TypeError(f"{op}: {name} is {t.dtype}, expected {dtype} like the input")


def _zeros(like, shape):
    return Tensor._wrap(array_module(like.data).zeros(shape, like.dtype))


def _cell(mode, op, input, hx, w_ih, w_hh, b_ih, b_hh):
    if not isinstance(input, Tensor) or input.ndim not in (1, 2):
        raise ValueError(f"{op}: expected input of shape (batch, input_size) or (input_size,), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    if input.dtype.kind != "f" or input.dtype != w_ih.dtype:
        raise TypeError(f"{op}: input is {input.dtype} and w_ih {w_ih.dtype}; expected one "
                        f"floating dtype")
    H = _check_weights(op, mode, input.shape[-1], w_ih, w_hh, b_ih, b_hh)
    unbatched = input.ndim == 1
    x = input.reshape(1, -1) if unbatched else input
    shape = (x.shape[0], H)
    names = ("h", "c") if mode == "lstm" else ("hx",)
    if hx is None:
        states = [_zeros(x, shape) for _ in names]
    else:
        states = list(hx) if mode == "lstm" else [hx]
        if len(states) != len(names):
            raise ValueError(f"{op}: expected hx = (h, c), got {len(states)} tensors")
        for i, (name, s) in enumerate(zip(names, states)):
            _check_state(op, name, s, shape[1:] if unbatched else shape, input.dtype)
            states[i] = s.reshape(shape) if unbatched else s
    gi = Linear.apply(x, w_ih, *(() if b_ih is None else (b_ih,)))
    out = _step(mode, gi, tuple(states) if mode == "lstm" else states[0], w_hh, b_hh)
    if unbatched:
        return tuple(o.reshape(H) for o in out) if mode == "lstm" else out.reshape(H)
    return out


# ----------------------------------------------------------------------------- public
def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step, PyTorch's ``GRUCell`` (gate order r, z, n).

    r = s(W_ir x + b_ir + W_hr h + b_hr), z = s(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h.

    input: (B, I) or (I,); hx: (B, H) or (H,), None for zeros; w_ih (3H, I), w_hh (3H, H),
    b_ih, b_hh (3H,) or None. Returns h' shaped like hx.
    """
    return _cell("gru", "gru_cell", input, hx, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step, PyTorch's ``LSTMCell`` (gate order i, f, g, o).

    [i, f, g, o] = W_ih x + b_ih + W_hh h + b_hh; c' = s(f) c + s(i) tanh(g); h' = s(o) tanh(c').

    input: (B, I) or (I,); hx: (h, c) each (B, H) or (H,), None for zeros; w_ih (4H, I),
    w_hh (4H, H), b_ih, b_hh (4H,) or None. Returns (h', c').
    """
    return _cell("lstm", "lstm_cell", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh). Shapes as ``gru_cell`` with H
    gate rows instead of 3H."""
    return _cell("rnn_tanh", "rnn_tanh_cell", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step: h' = relu(W_ih x + b_ih + W_hh h + b_hh)."""
    return _cell("rnn_relu", "rnn_relu_cell", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_sequence(mode, input, hx, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One layer and direction of a recurrent network over a whole sequence.

    mode: 'gru', 'lstm', 'rnn_tanh' or 'rnn_relu'. input: (T, B, I), time first.
    hx: (B, H), or (h, c) for LSTM. reverse: run from the last time step to the first (the
    backward direction of a bidirectional layer). The input projection of all T steps is one
    GEMM; then one fused step per time. Returns (output (T, B, H) in time order, final state).
    """
    if mode not in GATE_BLOCKS:
        raise ValueError(f"rnn_sequence: mode {mode!r} is not one of {sorted(GATE_BLOCKS)}")
    if not isinstance(input, Tensor) or input.ndim != 3 or input.shape[0] == 0:
        raise ValueError(f"rnn_sequence: expected input of shape (T, B, input_size) with T >= 1, "
                         f"got {getattr(input, 'shape', type(input).__name__)}")
    _check_weights("rnn_sequence", mode, input.shape[-1], w_ih, w_hh, b_ih, b_hh)
    if input.dtype != w_ih.dtype:
        raise TypeError(f"rnn_sequence ({mode}): the input is {input.dtype} but the weights are "
                        f"{w_ih.dtype}; expected one dtype (convert the input with .to())")
    T = input.shape[0]
    gi = Linear.apply(input, w_ih, *(() if b_ih is None else (b_ih,)))
    steps = split(gi, T, axis=0) if T > 1 else [gi]
    state = hx
    outputs = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        state = _step(mode, steps[t], state, w_hh, b_hh)
        outputs[t] = state[0] if mode == "lstm" else state
    return stack(outputs, axis=0), state

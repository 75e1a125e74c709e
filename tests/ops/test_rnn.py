"""GRU / LSTM / Elman cells and sequences against PyTorch and the NumPy references."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from pydyfast.ops import rnn as R
from pydyfast.testing import gradcheck

from conftest import tolerances
from oracle import compare_with_torch

CELLS = {  # name -> (pydyfast function, torch function, gate blocks)
    "gru": (F.gru_cell, torch._VF.gru_cell, 3),
    "lstm": (F.lstm_cell, torch._VF.lstm_cell, 4),
    "rnn_tanh": (F.rnn_tanh_cell, torch._VF.rnn_tanh_cell, 1),
    "rnn_relu": (F.rnn_relu_cell, torch._VF.rnn_relu_cell, 1),
}


def _cell_arrays(rng, gates, B, I, H, bias=True):
    arrays = [rng.standard_normal((B, I)), rng.standard_normal((B, H)),
              rng.standard_normal((gates * H, I)) * 0.5, rng.standard_normal((gates * H, H)) * 0.5]
    if bias:
        arrays += [rng.standard_normal(gates * H) * 0.5, rng.standard_normal(gates * H) * 0.5]
    return arrays


@pytest.mark.parametrize("mode", sorted(CELLS))
@pytest.mark.parametrize("B,I,H", [(3, 5, 7), (1, 1, 1), (4, 16, 8)])
def test_cell_matches_torch(mode, B, I, H, dtype, kernels, rng):
    pd_fn, th_fn, gates = CELLS[mode]
    arrays = _cell_arrays(rng, gates, B, I, H)
    if mode == "lstm":
        arrays.insert(2, rng.standard_normal((B, H)))  # c
        for k in (0, 1):  # h' and c' each, with their gradients
            compare_with_torch(
                lambda x, h, c, *w: pd_fn(x, (h, c), *w)[k],
                lambda x, h, c, *w: th_fn(x, (h, c), *w)[k], arrays, dtype)
    else:
        compare_with_torch(lambda x, h, *w: pd_fn(x, h, *w), lambda x, h, *w: th_fn(x, h, *w),
                           arrays, dtype)


@pytest.mark.parametrize("mode", sorted(CELLS))
def test_cell_without_bias_and_without_state(mode, dtype, kernels, rng):
    pd_fn, th_fn, gates = CELLS[mode]
    x, _, w_ih, w_hh = _cell_arrays(rng, gates, 2, 3, 4, bias=False)

    def th(x, w_ih, w_hh):
        z = torch.zeros(2, 4, dtype=x.dtype)
        out = th_fn(x, (z, z) if mode == "lstm" else z, w_ih, w_hh, None, None)
        return out[0] if mode == "lstm" else out

    def pd(x, w_ih, w_hh):
        out = pd_fn(x, None, w_ih, w_hh)
        return out[0] if mode == "lstm" else out

    compare_with_torch(pd, th, [x, w_ih, w_hh], dtype)


def test_unbatched_cell(dtype, kernels, rng):
    x, h, w_ih, w_hh, b_ih, b_hh = _cell_arrays(rng, 3, 1, 3, 4)
    compare_with_torch(lambda x, h, *w: F.gru_cell(x.reshape(3), h.reshape(4), *w),
                       lambda x, h, *w: torch._VF.gru_cell(x, h, *w).reshape(4),
                       [x, h, w_ih, w_hh, b_ih, b_hh], dtype)


def test_noncontiguous_inputs(dtype, kernels, rng):
    x = rng.standard_normal((6, 4))[:, ::2]   # (6, 2) strided
    h = rng.standard_normal((3, 6)).T         # (6, 3) transposed
    _, _, w_ih, w_hh, b_ih, b_hh = _cell_arrays(rng, 4, 6, 2, 3)
    c = rng.standard_normal((6, 3))
    pd = F.lstm_cell(pdf.Tensor(x.astype(dtype)), (pdf.Tensor(h.astype(dtype)),
                     pdf.Tensor(c.astype(dtype))),
                     *[pdf.Tensor(a.astype(dtype)) for a in (w_ih, w_hh, b_ih, b_hh)])
    th = torch._VF.lstm_cell(torch.tensor(x), (torch.tensor(h), torch.tensor(c)),
                             *[torch.tensor(a) for a in (w_ih, w_hh, b_ih, b_hh)])
    for p, t in zip(pd, th):
        np.testing.assert_allclose(p.numpy(), t.numpy(), **tolerances(dtype))


@pytest.mark.parametrize("fwd_ref,native,n_state", [
    (R._gru_gates_fwd_ref, "gru_gates_fwd", 3), (R._lstm_gates_fwd_ref, "lstm_gates_fwd", 4)])
def test_gate_kernels_match_reference(fwd_ref, native, n_state, dtype, rng):
    from pydyfast.backend import _C
    B, H = 5, 9
    gi, gh = (rng.standard_normal((B, n_state * H)).astype(dtype) for _ in range(2))
    state = rng.standard_normal((B, H)).astype(dtype)
    for got, want in zip(getattr(_C, native)(gi, gh, state), fwd_ref(np, gi, gh, state)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **tolerances(dtype))


@pytest.mark.parametrize("mode", ["gru", "lstm", "rnn_relu"])
def test_cell_gradcheck(mode, kernels, rng):
    pd_fn, _, gates = CELLS[mode]
    arrays = [pdf.Tensor(a, requires_grad=True) for a in _cell_arrays(rng, gates, 2, 3, 2)]
    x, h, *w = arrays
    if mode == "lstm":
        c = pdf.Tensor(rng.standard_normal((2, 2)), requires_grad=True)
        gradcheck(lambda x, h, c, *w: pd_fn(x, (h, c), *w)[1] * 2 + pd_fn(x, (h, c), *w)[0],
                  [x, h, c, *w])
    else:
        gradcheck(lambda x, h, *w: pd_fn(x, h, *w), [x, h, *w])


@pytest.mark.parametrize("mode", sorted(CELLS))
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_matches_torch_through_time(mode, reverse, dtype, kernels, rng):
    _, th_fn, gates = CELLS[mode]
    T, B, I, H = 5, 3, 4, 6
    x = rng.standard_normal((T, B, I))
    arrays = [x] + _cell_arrays(rng, gates, B, I, H)[1:]
    if mode == "lstm":
        arrays.insert(2, rng.standard_normal((B, H)))

    def th(x, *state_and_weights):
        n = 2 if mode == "lstm" else 1
        state = tuple(state_and_weights[:n]) if mode == "lstm" else state_and_weights[0]
        outs = [None] * T
        for t in (reversed(range(T)) if reverse else range(T)):
            state = th_fn(x[t], state, *state_and_weights[n:])
            outs[t] = state[0] if mode == "lstm" else state
        return torch.stack(outs) + (state[1].sum() if mode == "lstm" else 0)

    def pd(x, *state_and_weights):
        n = 2 if mode == "lstm" else 1
        state = tuple(state_and_weights[:n]) if mode == "lstm" else state_and_weights[0]
        out, final = F.rnn_sequence(mode, x, state, *state_and_weights[n:], reverse=reverse)
        return out + (final[1].sum() if mode == "lstm" else 0)

    compare_with_torch(pd, th, arrays, dtype)


def test_bad_inputs(rng):
    x, h, w_ih, w_hh, b_ih, b_hh = [pdf.Tensor(a.astype(np.float32))
                                    for a in _cell_arrays(rng, 3, 2, 3, 4)]
    with pytest.raises(ValueError, match=r"gru_cell: expected w_hh of shape \(12, 4\)"):
        F.gru_cell(x, h, w_ih, pdf.Tensor(np.zeros((12, 5), np.float32)))
    with pytest.raises(ValueError, match=r"gru_cell: expected w_ih of shape \(12, 3\)"):
        F.gru_cell(x, h, pdf.Tensor(np.zeros((9, 3), np.float32)), w_hh)
    with pytest.raises(ValueError, match=r"gru_cell: expected hx of shape \(2, 4\)"):
        F.gru_cell(x, pdf.Tensor(np.zeros((2, 5), np.float32)), w_ih, w_hh)
    with pytest.raises(TypeError, match="gru_cell: input is float64 and w_ih float32"):
        F.gru_cell(x.to(dtype=np.float64), h, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"lstm_cell: expected hx = \(h, c\)"):
        F.lstm_cell(x, (h,), pdf.Tensor(np.zeros((16, 3), np.float32)),
                    pdf.Tensor(np.zeros((16, 4), np.float32)))
    with pytest.raises(ValueError, match="rnn_sequence: mode 'lstn'"):
        F.rnn_sequence("lstn", x.reshape(1, 2, 3), h, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"rnn_sequence: expected input of shape \(T, B"):
        F.rnn_sequence("gru", x, h, w_ih, w_hh)


def test_kernel_shape_errors(dtype):
    from pydyfast.backend import _C
    a = np.zeros((2, 6), dtype)
    with pytest.raises(ValueError, match=r"gru_cell: expected gi and gh of shape \(B, 3\*H\)"):
        _C.gru_gates_fwd(a, a, np.zeros((2, 3), dtype))
    with pytest.raises(ValueError, match=r"lstm_cell backward: expected saved \(B, 5H\)"):
        _C.lstm_gates_bwd(a, np.zeros((2, 3), dtype), np.zeros((2, 3), dtype),
                          np.zeros((2, 3), dtype))

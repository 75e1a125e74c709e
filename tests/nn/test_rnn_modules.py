"""RNN, LSTM, GRU and their cells against torch.nn with the same state dict: outputs, final
states, input gradients and parameter gradients."""
import numpy as np
import pytest
import torch

import pydyfast as pdf
from pydyfast import nn

from conftest import tolerances

TORCH = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU,
         "RNNCell": torch.nn.RNNCell, "LSTMCell": torch.nn.LSTMCell, "GRUCell": torch.nn.GRUCell}


def _pair(name, dtype, *args, **kwargs):
    """The torch module and ours, ours loaded with torch's parameters."""
    th = TORCH[name](*args, **kwargs).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    state = {k: v.detach().numpy() for k, v in th.state_dict().items()}
    assert sorted(ours.state_dict()) == sorted(state)
    ours.load_state_dict({k: pdf.Tensor(v) for k, v in state.items()})
    return th, ours


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _compare(th, ours, inputs, dtype):
    """Same forward on both; backward of a random weighting of every output; compare all."""
    th_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    pd_in = [pdf.Tensor(a, requires_grad=True) for a in inputs]
    th_out = _flat(th(th_in[0], *(th_in[1:] if len(th_in) < 3 else [tuple(th_in[1:])])))
    pd_out = _flat(ours(pd_in[0], *(pd_in[1:] if len(pd_in) < 3 else [tuple(pd_in[1:])])))
    tol = tolerances(dtype)
    rng = np.random.default_rng(5)
    th_loss, pd_loss = 0, 0
    for t, p in zip(th_out, pd_out, strict=True):
        assert p.shape == tuple(t.shape)
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), **tol)
        w = rng.standard_normal(p.shape).astype(dtype)
        th_loss = th_loss + (t * torch.tensor(w)).sum()
        pd_loss = pd_loss + (p * pdf.Tensor(w)).sum()
    th_loss.backward()
    pd_loss.backward()
    for t, p in zip(th_in, pd_in):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), err_msg="input grad", **tol)
    pd_params = dict(ours.named_parameters())
    for name, t in th.named_parameters():
        np.testing.assert_allclose(pd_params[name].grad.numpy(), t.grad.numpy(), err_msg=name,
                                   **tol)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidirectional,batch_first,bias", [
    (1, False, False, True), (2, True, True, True), (2, False, False, False)])
def test_recurrent_modules_match_torch(name, layers, bidirectional, batch_first, bias, dtype,
                                       kernels, rng):
    th, ours = _pair(name, dtype, 3, 5, num_layers=layers, bidirectional=bidirectional,
                     batch_first=batch_first, bias=bias)
    T, B = 4, 2
    x = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3)).astype(dtype)
    states = [rng.standard_normal((layers * (1 + bidirectional), B, 5)).astype(dtype)
              for _ in range(2 if name == "LSTM" else 1)]
    _compare(th, ours, [x] + states, dtype)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_recurrent_modules_unbatched_and_default_state(name, dtype, kernels, rng):
    th, ours = _pair(name, dtype, 2, 3)
    _compare(th, ours, [rng.standard_normal((5, 2)).astype(dtype)], dtype)
    th.eval()
    ours.eval()
    _compare(th, ours, [rng.standard_normal((1, 1, 2)).astype(dtype)], dtype)


def test_rnn_relu_module(dtype, kernels, rng):
    th, ours = _pair("RNN", dtype, 2, 4, nonlinearity="relu", num_layers=2)
    _compare(th, ours, [rng.standard_normal((3, 2, 2)).astype(dtype)], dtype)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(name, bias, dtype, kernels, rng):
    th, ours = _pair(name, dtype, 3, 4, bias=bias)
    x = rng.standard_normal((2, 3)).astype(dtype)
    states = [rng.standard_normal((2, 4)).astype(dtype) for _ in range(2 if "LSTM" in name else 1)]
    _compare(th, ours, [x] + states, dtype)
    _compare(th, ours, [x], dtype)  # hx=None: zeros


def test_parameter_names_shapes_and_init():
    pdf.manual_seed(3)
    gru = nn.GRU(4, 8, num_layers=2, bidirectional=True)
    shapes = {k: v.shape for k, v in gru.named_parameters()}
    assert shapes["weight_ih_l0"] == (24, 4) and shapes["weight_hh_l0_reverse"] == (24, 8)
    assert shapes["weight_ih_l1"] == (24, 16) and shapes["bias_hh_l1_reverse"] == (24,)
    assert len(shapes) == 16
    values = np.concatenate([p.numpy().ravel() for p in gru.parameters()])
    bound = 1 / np.sqrt(8)
    assert values.dtype == np.float32 and np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.9 * bound  # uniform over the whole interval
    pdf.manual_seed(3)
    again = nn.GRU(4, 8, num_layers=2, bidirectional=True)
    np.testing.assert_array_equal(again.weight_ih_l0.numpy(), gru.weight_ih_l0.numpy())


def test_dropout_between_layers_only_in_training(rng):
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = pdf.Tensor(rng.standard_normal((5, 2, 3)).astype(np.float32))
    lstm.eval()
    a, b = lstm(x)[0].numpy(), lstm(x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    lstm.train()
    c = lstm(x)[0].numpy()
    assert not np.allclose(a, c)


def test_module_bad_inputs():
    gru = nn.GRU(3, 4)
    with pytest.raises(ValueError, match=r"GRU: expected input \(T, B, 3\)"):
        gru(pdf.Tensor(np.zeros((2, 2, 5), np.float32)))
    with pytest.raises(ValueError, match=r"GRU: expected initial state of shape \(1, 2, 4\)"):
        gru(pdf.Tensor(np.zeros((2, 2, 3), np.float32)), pdf.Tensor(np.zeros((2, 4), np.float32)))
    with pytest.raises(ValueError, match=r"LSTM: expected hx = \(h_0, c_0\)"):
        nn.LSTM(3, 4)(pdf.Tensor(np.zeros((2, 2, 3), np.float32)),
                      (pdf.Tensor(np.zeros((1, 2, 4), np.float32)),))
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"LSTM: dropout must be in \[0, 1\)"):
        nn.LSTM(3, 4, dropout=1.5)

"""RNN, LSTM, GRU and their cells against torch.nn with the same state dict: outputs, final
states, input gradients and parameter gradients."""
import numpy as np
import pytest

import pydyfast as pdf
from pydyfast import nn

from conftest import tolerances
from oracle import compare_with_torch, torch

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
    """Same forward on both (outputs and final states flattened into one list), backward of a
    random weighting of every output (tests/oracle.py); then every parameter gradient."""
    def call(module):
        def forward(x, *states):
            return _flat(module(x, *(states if len(states) < 2 else [tuple(states)])))
        return forward
    compare_with_torch(call(ours), call(th), inputs, dtype, seed=5)
    tol = tolerances(dtype)
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


@pytest.mark.parametrize("name,args,kwargs", [
    ("LSTM", (3, 4), dict(num_layers=2, bidirectional=True)),
    ("GRU", (3, 4), dict(num_layers=2, bias=False, batch_first=True, dropout=0.5)),
    ("RNNCell", (2, 5), dict(nonlinearity="relu", bias=False)), ("GRUCell", (2, 5), {})])
def test_repr_matches_torch(name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(TORCH[name](*args, **kwargs))


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

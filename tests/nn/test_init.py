"""nn.init: fan rules and gains against torch, bounds and statistics of the samples, seeding,
in-place filling, bad arguments."""
import math

import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast
from pydyfast.nn import Parameter, init

SHAPES = [(30, 20), (16, 8, 3, 3), (5, 7, 4), (1, 9)]


def param(shape, dtype=np.float64):
    return Parameter(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(param(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("selu",)])
def test_gain_matches_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def sample_std_bound(fn, shape, **kwargs):
    t = param(shape)
    fn(t, **kwargs)
    return t.data.std(), np.abs(t.data).max()


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0.1), ("tanh", 0)])
def test_kaiming_spread_matches_torch_formula(mode, nonlinearity, a):
    shape = (64, 32, 3, 3)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    fan = fan_in if mode == "fan_in" else fan_out
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    got_std, got_max = sample_std_bound(init.kaiming_uniform_, shape, a=a, mode=mode,
                                        nonlinearity=nonlinearity)
    assert got_max <= math.sqrt(3) * std and got_std == pytest.approx(std, rel=0.03)
    got_std, _ = sample_std_bound(init.kaiming_normal_, shape, a=a, mode=mode,
                                  nonlinearity=nonlinearity)
    assert got_std == pytest.approx(std, rel=0.03)
    # torch's own samples have the same spread
    ref = torch.nn.init.kaiming_uniform_(torch.empty(shape), a=a, mode=mode,
                                         nonlinearity=nonlinearity)
    assert float(ref.std()) == pytest.approx(got_std, rel=0.05)


def test_xavier_spread():
    shape = (200, 100)
    std = 1.5 * math.sqrt(2.0 / 300)
    got_std, got_max = sample_std_bound(init.xavier_uniform_, shape, gain=1.5)
    assert got_max <= math.sqrt(3) * std and got_std == pytest.approx(std, rel=0.03)
    got_std, _ = sample_std_bound(init.xavier_normal_, shape, gain=1.5)
    assert got_std == pytest.approx(std, rel=0.03)


def test_uniform_normal_constant(dtype):
    t = param((100, 50), dtype)
    array = t.data
    init.uniform_(t, -2.0, 3.0)
    assert t.data is array and t.data.dtype == dtype
    assert t.data.min() >= -2 and t.data.max() <= 3
    assert t.data.mean() == pytest.approx(0.5, abs=0.05)
    init.normal_(t, 1.0, 0.5)
    assert t.data.mean() == pytest.approx(1.0, abs=0.02)
    assert t.data.std() == pytest.approx(0.5, rel=0.03)
    init.constant_(t, 0.25)
    assert np.all(t.data == 0.25)
    init.ones_(t)
    assert np.all(t.data == 1)
    init.zeros_(t)
    assert np.all(t.data == 0)
    init.eye_(t)
    np.testing.assert_array_equal(t.data, np.eye(100, 50))


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, dtype):
    t = param(shape, dtype)
    init.orthogonal_(t, gain=2.0)
    flat = t.data.reshape(shape[0], -1).astype(np.float64) / 2.0
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


def test_same_seed_same_weights_and_no_graph():
    a, b = param((4, 5)), param((4, 5))
    pydyfast.manual_seed(3)
    init.kaiming_uniform_(a)
    pydyfast.manual_seed(3)
    init.kaiming_uniform_(b)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.grad_fn is None and a.requires_grad


@pytest.mark.parametrize("call,match", [
    (lambda: init.xavier_uniform_(param((5,))), "at least 2 dimensions"),
    (lambda: init.kaiming_normal_(param((3, 3)), mode="fan_avg"), "mode must be"),
    (lambda: init.calculate_gain("swish"), "unsupported nonlinearity"),
    (lambda: init.calculate_gain("leaky_relu", "big"), "not a number"),
    (lambda: init.uniform_(param((2,)), 1.0, 0.0), "a <= b"),
    (lambda: init.orthogonal_(param((4,))), "at least 2 dimensions"),
    (lambda: init.normal_(np.zeros(3)), "expected a Tensor"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()

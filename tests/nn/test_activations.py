"""Activation functions and layers against torch: values and gradients in both dtypes, the
layers' options, stability at +-1e4, finite-difference checks and bad inputs."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import nn
from pydyfast.nn import functional as F
from pydyfast.testing import gradcheck

from nn.layer_oracle import compare_module
from oracle import compare_with_torch

LAYERS = [  # (pydyfast layer, torch layer)
    (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()), (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(), torch.nn.LeakyReLU()), (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(), torch.nn.ELU()), (nn.ELU(alpha=0.5), torch.nn.ELU(alpha=0.5)),
    (nn.GELU(), torch.nn.GELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.SiLU(), torch.nn.SiLU()), (nn.Softplus(), torch.nn.Softplus()),
    (nn.Softplus(beta=2.0, threshold=5.0), torch.nn.Softplus(beta=2.0, threshold=5.0)),
    (nn.Hardtanh(-0.5, 2.0), torch.nn.Hardtanh(-0.5, 2.0)),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)), (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(-1)),
]


@pytest.mark.parametrize("pair", LAYERS, ids=[repr(p[0]) for p in LAYERS])
@pytest.mark.parametrize("shape", [(4, 7), (1, 1), (2, 3, 5)])
def test_activation_layers(pair, shape, dtype, kernels, rng):
    x = rng.standard_normal(shape) * 4  # reaches softplus's threshold and hardtanh's bounds
    compare_module(pair[0], pair[1], [x], dtype)


FUNCTIONS = [
    ("gelu", lambda x: F.gelu(x), lambda x: torch.nn.functional.gelu(x)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: torch.nn.functional.gelu(x, approximate="tanh")),
    ("silu", F.silu, torch.nn.functional.silu), ("elu", F.elu, torch.nn.functional.elu),
    ("leaky_relu", F.leaky_relu, torch.nn.functional.leaky_relu),
    ("softplus", F.softplus, torch.nn.functional.softplus),
]


@pytest.mark.parametrize("name, fn, ref", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_functions_are_stable_at_large_inputs(name, fn, ref, dtype):
    x = np.array([-1e4, -100.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 100.0, 1e4])
    out = compare_with_torch(fn, ref, [x], dtype)
    assert np.all(np.isfinite(out.numpy()))


def test_non_contiguous_input(dtype, rng):
    x = rng.standard_normal((6, 8))[::2, 1::3]
    compare_with_torch(F.gelu, torch.nn.functional.gelu, [x], dtype)
    compare_with_torch(F.elu, torch.nn.functional.elu, [x.T], dtype)


@pytest.mark.parametrize("name, fn, ref", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_gradcheck(name, fn, ref, rng):
    x = pdf.tensor(rng.standard_normal((3, 4)) * 2, requires_grad=True)
    assert gradcheck(fn, [x])


def test_softmax_layer_default_dim_is_last(rng):
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(nn.Softmax()(pdf.tensor(x)).numpy(),
                               torch.softmax(torch.tensor(x), -1).numpy(), rtol=1e-12)


def test_bad_arguments():
    x = pdf.zeros(3)
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(x, approximate="fast")
    with pytest.raises(TypeError, match="elu: expected a floating-point tensor, got dtype int64"):
        F.elu(pdf.tensor(np.arange(3)))
    with pytest.raises(TypeError, match="silu: expected a Tensor, got ndarray"):
        F.silu(np.zeros(3))
    with pytest.raises(ValueError, match="softplus: beta must be nonzero"):
        F.softplus(x, beta=0)
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2\) is greater than max_val"):
        F.hardtanh(x, 2, 1)
    with pytest.raises(TypeError, match="LeakyReLU: unexpected arguments"):
        nn.LeakyReLU(slope=0.1)
    with pytest.raises(TypeError, match="ELU: takes at most 1 arguments"):
        nn.ELU(1.0, 2.0)

"""Linear, Bilinear, Embedding, Identity, Flatten, Dropout and the normalization layers against
torch: same weights, outputs, input and parameter gradients, state dict keys, bad inputs."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import nn
from pydyfast.nn import functional as F
from pydyfast.testing import gradcheck

from nn.layer_oracle import compare_module, copy_torch_weights

LINEAR_SHAPES = [(4, 5), (1, 5), (2, 3, 5), (5,)]


@pytest.mark.parametrize("shape", LINEAR_SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias, dtype, kernels, rng):
    compare_module(nn.Linear(5, 7, bias=bias), torch.nn.Linear(5, 7, bias=bias),
                   [rng.standard_normal(shape)], dtype)


def test_linear_non_contiguous_input(dtype, rng):
    x = rng.standard_normal((5, 6))[:, ::2].T  # (3, 5) strided view
    compare_module(nn.Linear(5, 2), torch.nn.Linear(5, 2), [x], dtype)


def test_linear_default_init_bounds_and_seeding():
    pdf.manual_seed(3)
    a = nn.Linear(50, 20)
    pdf.manual_seed(3)
    b = nn.Linear(50, 20)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    bound = 1 / np.sqrt(50)
    for p in (a.weight, a.bias):
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.8 * bound
    assert a.weight.dtype == np.float32 and a.weight.requires_grad


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear(bias, dtype, kernels, rng):
    compare_module(nn.Bilinear(3, 4, 5, bias=bias), torch.nn.Bilinear(3, 4, 5, bias=bias),
                   [rng.standard_normal((6, 3)), rng.standard_normal((6, 4))], dtype)
    compare_module(nn.Bilinear(3, 4, 5, bias=bias), torch.nn.Bilinear(3, 4, 5, bias=bias),
                   [rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3, 4))], dtype)


def test_embedding_padding_row_gets_no_gradient(dtype, kernels, rng):
    idx = np.array([[0, 2, 2, 4], [1, 2, 0, 0]])
    out = compare_module(nn.Embedding(5, 3, padding_idx=0), torch.nn.Embedding(5, 3, padding_idx=0),
                         [idx], dtype)
    assert out.shape == (2, 4, 3)
    m = nn.Embedding(5, 3, padding_idx=-1)
    assert m.padding_idx == 4 and not np.any(m.weight.numpy()[4])
    m(pdf.tensor(np.array([4, 4, 1]))).sum().backward()
    assert not np.any(m.weight.grad.numpy()[4]) and np.all(m.weight.grad.numpy()[1] == 1)


def test_embedding_repeated_indices_accumulate(dtype, kernels, rng):
    compare_module(nn.Embedding(3, 2), torch.nn.Embedding(3, 2), [np.array([1, 1, 1, 2])], dtype)


def test_embedding_from_pretrained():
    w = np.arange(6.0).reshape(3, 2)
    m = nn.Embedding.from_pretrained(w)
    assert not m.weight.requires_grad
    np.testing.assert_array_equal(m(pdf.tensor(np.array([2]))).numpy(), [[4.0, 5.0]])


def test_embedding_bad_inputs():
    m = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 4\)"):
        m(pdf.tensor(np.array([0, 4])))
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        m(pdf.tensor(np.array([0.5])))
    with pytest.raises(ValueError, match="padding_idx 7 out of range"):
        nn.Embedding(4, 2, padding_idx=7)


def test_linear_bad_inputs():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) does not match "
                                         r"weight of shape \(4, 5\)"):
        nn.Linear(5, 4)(pdf.zeros(2, 3))
    with pytest.raises(TypeError, match="linear: input must be floating point"):
        nn.Linear(5, 4)(pdf.tensor(np.zeros((2, 5), np.int64)))
    with pytest.raises(ValueError, match="bilinear: inputs of shapes"):
        nn.Bilinear(3, 4, 5)(pdf.zeros(2, 3), pdf.zeros(2, 3))


def test_identity_and_flatten(dtype, rng):
    x = pdf.tensor(rng.standard_normal((2, 3, 4, 5)).astype(dtype))
    assert nn.Identity(7, foo=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    compare_module(nn.Flatten(1, 2), torch.nn.Flatten(1, 2), [x.numpy()], dtype)


def test_dropout_train_and_eval(dtype, rng):
    x = pdf.tensor(np.ones((200, 50), dtype), requires_grad=True)
    m = nn.Dropout(0.3)
    y = m(x)
    kept = y.numpy() != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)  # gradient follows the same mask
    m.eval()
    assert m(x) is x
    assert not np.any(nn.Dropout(1.0)(x).numpy())
    with pytest.raises(ValueError, match=r"Dropout: p must lie in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_dropout_is_seeded(rng):
    x = pdf.ones(10, 10)
    pdf.manual_seed(5)
    a = F.dropout(x, 0.5).numpy()
    pdf.manual_seed(5)
    np.testing.assert_array_equal(a, F.dropout(x, 0.5).numpy())


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (4, 3, 5, 2)),
                                        ("BatchNorm2d", (1, 3, 2, 3))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_train_then_eval(cls, shape, momentum, dtype, kernels, rng):
    m, t = getattr(nn, cls)(3, momentum=momentum), getattr(torch.nn, cls)(3, momentum=momentum)
    with torch.no_grad():
        t.weight.uniform_(0.5, 1.5)
        t.bias.uniform_(-0.5, 0.5)
    copy_torch_weights(m, t, dtype)
    for step in range(2):  # two batches: running statistics accumulate
        for p in list(m.parameters()):
            p.grad = None
        t.zero_grad()
        compare_module(m, t, [rng.standard_normal(shape) * 2 + 1], dtype, copy_weights=False,
                       seed=step)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(m, name).numpy(), getattr(t, name).numpy(), rtol=1e-5,
                                   err_msg=name)
    m.eval()
    t.eval()
    compare_module(m, t, [rng.standard_normal(shape)], dtype, copy_weights=False)


def test_batchnorm_large_mean_small_spread(dtype, rng):
    """Statistics and the weight gradient are centred first: mean 1e3, std 1 keeps float32
    accuracy (a one-pass E[x^2] - E[x]^2 would lose every digit of the variance)."""
    compare_module(nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3),
                   [rng.standard_normal((16, 3, 4)) + 1e3], dtype,
                   tol=dict(rtol=1e-3, atol=1e-3) if dtype == np.float32 else None)


def test_batchnorm_without_affine_or_running_stats(dtype, rng):
    for kwargs in (dict(affine=False), dict(track_running_stats=False)):
        m, t = nn.BatchNorm2d(2, **kwargs), torch.nn.BatchNorm2d(2, **kwargs)
        assert list(m.state_dict()) == list(t.state_dict())
        m.eval()
        t.eval()
        compare_module(m, t, [rng.standard_normal((3, 2, 2, 2))], dtype)


def test_batchnorm_gradcheck(rng):
    x = pdf.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    w = pdf.tensor(rng.standard_normal(2), requires_grad=True)
    b = pdf.tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), [x, w, b])


def test_batchnorm_bad_inputs():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of rank \(4,\) with 3 "
                                         r"channels at axis 1, got shape \(2, 3\)"):
        nn.BatchNorm2d(3)(pdf.zeros(2, 3))
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(pdf.zeros(1, 3))


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 5, 4), (3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm(shape, affine, dtype, kernels, rng):
    m, t = nn.LayerNorm(shape[-1], elementwise_affine=affine), \
        torch.nn.LayerNorm(shape[-1], elementwise_affine=affine)
    if affine:
        with torch.no_grad():
            t.weight.uniform_(0.5, 1.5)
            t.bias.uniform_(-0.5, 0.5)
    compare_module(m, t, [rng.standard_normal(shape) * 3], dtype)
    assert not m.state_dict() or list(m.state_dict()) == ["weight", "bias"]  # no running stats


def test_layernorm_multi_axis(dtype, rng):
    compare_module(nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4)),
                   [rng.standard_normal((2, 3, 4))], dtype)


@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rmsnorm(eps, dtype, kernels, rng):
    t = torch.nn.RMSNorm(6, eps=eps)
    with torch.no_grad():
        t.weight.uniform_(0.5, 1.5)
    compare_module(nn.RMSNorm(6, eps=eps), t, [rng.standard_normal((2, 3, 6))], dtype)


@pytest.mark.parametrize("groups, shape", [(2, (3, 4, 5, 2)), (1, (2, 3, 4)), (3, (1, 3, 7)),
                                           (4, (2, 8))])
def test_groupnorm(groups, shape, dtype, kernels, rng):
    t = torch.nn.GroupNorm(groups, shape[1])
    with torch.no_grad():
        t.weight.uniform_(0.5, 1.5)
        t.bias.uniform_(-0.5, 0.5)
    compare_module(nn.GroupNorm(groups, shape[1]), t, [rng.standard_normal(shape) * 2], dtype)


def test_groupnorm_bad_inputs():
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(5\) must be divisible"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"group_norm: expected input \(N, C, \*\) with C "
                                         r"divisible by num_groups=2, got shape \(2, 3\)"):
        F.group_norm(pdf.zeros(2, 3), 2)

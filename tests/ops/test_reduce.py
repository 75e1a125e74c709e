import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from oracle import compare_with_torch

AXES = [None, 0, 1, -1, (0, 2)]


def _torch_axes(axis):
    return tuple(range(3)) if axis is None else axis


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp", "var", "std"])
def test_reductions_match_torch(name, axis, keep, dtype, rng):
    x = rng.standard_normal((3, 4, 5))
    pd_fn = lambda t: getattr(F, name)(t, axis=axis, keepdims=keep)  # noqa: E731
    if name in ("max", "min"):
        th = getattr(torch, "amax" if name == "max" else "amin")
        th_fn = lambda t: th(t, dim=_torch_axes(axis), keepdim=keep)  # noqa: E731
    elif name == "logsumexp":
        th_fn = lambda t: torch.logsumexp(t, dim=_torch_axes(axis), keepdim=keep)  # noqa: E731
    elif axis is None and not keep:
        th_fn = lambda t: getattr(torch, name)(t)  # noqa: E731
    else:
        th_fn = lambda t: getattr(torch, name)(t, dim=_torch_axes(axis), keepdim=keep)  # noqa: E731
    compare_with_torch(pd_fn, th_fn, [x], dtype)


def test_dim_keyword_and_keepdim_alias(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    t = pdf.Tensor(x)
    np.testing.assert_allclose(t.sum(dim=1, keepdim=True).numpy(), x.sum(1, keepdims=True))
    np.testing.assert_allclose(t.mean(axis=0).numpy(), x.mean(0), rtol=1e-6)
    with pytest.raises(TypeError, match="either axis= or dim="):
        t.sum(axis=0, dim=1)
    with pytest.raises(IndexError, match="sum: axis 2 is out of range"):
        t.sum(axis=2)


def test_var_population_and_unbiased(dtype, rng):
    x = rng.standard_normal((4, 6))
    compare_with_torch(lambda t: F.var(t, axis=1, unbiased=False),
                       lambda t: torch.var(t, dim=1, unbiased=False), [x], dtype)
    compare_with_torch(lambda t: F.std(t, axis=0, correction=0),
                       lambda t: torch.std(t, dim=0, correction=0), [x], dtype)


def test_max_ties_share_gradient_like_amax():
    x = pdf.Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    F.max(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1, 0, 0]])


def test_logsumexp_extremes():
    x = pdf.Tensor([[1e4, 1e4], [-np.inf, -np.inf], [-1e4, 0.0]], requires_grad=True)
    y = F.logsumexp(x, axis=1)
    np.testing.assert_allclose(y.numpy()[[0, 2]], [1e4 + np.log(2), 0.0], rtol=1e-6)
    assert y.numpy()[1] == -np.inf


def test_argmax_argmin(rng):
    x = rng.standard_normal((3, 5))
    t = pdf.Tensor(x)
    assert F.argmax(t).item() == x.argmax()
    np.testing.assert_array_equal(F.argmin(t, dim=1).numpy(), x.argmin(1))
    assert F.argmax(t, axis=0, keepdims=True).shape == (1, 5)
    assert F.argmax(t, axis=1).dtype == np.int64
    with pytest.raises(ValueError, match="argmax: cannot take argmax of an empty"):
        F.argmax(pdf.zeros(0))


def test_sum_of_empty_and_0d(dtype):
    compare_with_torch(lambda t: t.sum(), lambda t: t.sum(), [np.zeros((0, 3))], dtype)
    compare_with_torch(lambda t: t.sum(), lambda t: t.sum(), [np.array(2.5)], dtype)
    with pytest.raises(ValueError, match="max: cannot reduce an empty"):
        F.max(pdf.zeros(0, 3))

"""nn.utils gradient clipping against torch.nn.utils."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast
from pydyfast.nn import Parameter
from pydyfast.nn.utils import clip_grad_norm_, clip_grad_value_
from tests.conftest import tolerances


def pairs(rng, dtype, scale):
    shapes = [(3, 4), (5,), (1,)]
    grads = [scale * rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [Parameter(np.zeros(s, dtype)) for s in shapes]
    theirs = [torch.nn.Parameter(torch.zeros(s, dtype=torch.from_numpy(g).dtype))
              for s, g in zip(shapes, grads)]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = pydyfast.Tensor(g.copy()), torch.from_numpy(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("scale", [0.01, 10.0])  # below and above max_norm
def test_clip_grad_norm_matches_torch(norm_type, scale, dtype, rng):
    ours, theirs = pairs(rng, dtype, scale)
    total = clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0, norm_type=norm_type)
    assert float(total.item()) == pytest.approx(float(ref), rel=1e-5)
    for p, q in zip(ours, theirs):
        assert p.grad.data.dtype == dtype
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), **tolerances(dtype))


def test_clip_grad_value_matches_torch(dtype, rng):
    ours, theirs = pairs(rng, dtype, 2.0)
    clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())


def test_single_tensor_params_without_grad_and_nonfinite():
    p, q = Parameter(np.zeros(2)), Parameter(np.zeros(2))
    p.grad = pydyfast.Tensor([3.0, 4.0])
    assert clip_grad_norm_(p, 10.0).item() == pytest.approx(5.0)
    assert clip_grad_norm_([q], 1.0).item() == 0.0
    p.grad = pydyfast.Tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="total norm"):
        clip_grad_norm_([p, q], 1.0, error_if_nonfinite=True)

import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from oracle import compare_with_torch

CASES = [
    ("reshape", lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6)),
    ("reshape_infer", lambda t: t.reshape(-1, 3), lambda t: t.reshape(-1, 3)),
    ("view_tuple", lambda t: t.view((2, 12)), lambda t: t.view(2, 12)),
    ("flatten", lambda t: t.flatten(), lambda t: t.flatten()),
    ("flatten_1", lambda t: F.flatten(t, 1), lambda t: torch.flatten(t, 1)),
    ("transpose_swap", lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2)),
    ("T", lambda t: t.T, lambda t: t.permute(2, 1, 0)),
    ("permute", lambda t: t.permute(1, 2, 0), lambda t: t.permute(1, 2, 0)),
    ("swapaxes", lambda t: F.swapaxes(t, 0, 1), lambda t: torch.swapaxes(t, 0, 1)),
    ("unsqueeze", lambda t: t.unsqueeze(1), lambda t: t.unsqueeze(1)),
    ("unsqueeze_neg", lambda t: t.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
    ("expand", lambda t: t[:, :1].expand(2, 5, 4), lambda t: t[:, :1].expand(2, 5, 4)),
    ("broadcast_to", lambda t: F.broadcast_to(t, (3, 2, 3, 4)),
     lambda t: torch.broadcast_to(t, (3, 2, 3, 4))),
    ("squeeze", lambda t: t[:, :1].squeeze(), lambda t: t[:, :1].squeeze()),
    ("squeeze_dim", lambda t: t[:, :1].squeeze(1), lambda t: t[:, :1].squeeze(1)),
]


@pytest.mark.parametrize("name,fn,tfn", CASES, ids=[c[0] for c in CASES])
def test_shape_ops_match_torch(name, fn, tfn, dtype, rng):
    compare_with_torch(fn, tfn, [rng.standard_normal((2, 3, 4))], dtype)


def test_cat_stack_split_match_torch(dtype, rng):
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), rng.standard_normal((1, 3))
    compare_with_torch(lambda x, y, z: F.cat([x, y, z], dim=0) * 2,
                       lambda x, y, z: torch.cat([x, y, z], dim=0) * 2, [a, b, c], dtype)
    compare_with_torch(lambda x, y: F.stack([x, y], axis=1),
                       lambda x, y: torch.stack([x, y], dim=1), [a, a + 1], dtype)
    parts = lambda t: F.split(t, [1, 3], axis=0)  # noqa: E731
    compare_with_torch(lambda t: parts(t)[0].sum() + (parts(t)[2] * 3).sum(),
                       lambda t: torch.tensor_split(t, [1, 3])[0].sum()
                       + (torch.tensor_split(t, [1, 3])[2] * 3).sum(), [b], dtype)


def test_split_variants():
    x = pdf.arange(24).reshape(2, 3, 4)
    assert [p.shape for p in F.split(x, 2, axis=2)] == [(2, 3, 2), (2, 3, 2)]
    assert [p.shape for p in F.vsplit(x, 2)] == [(1, 3, 4)] * 2
    assert [p.shape for p in F.hsplit(x, [1])] == [(2, 1, 4), (2, 2, 4)]
    assert [p.shape for p in F.dsplit(x, 4)] == [(2, 3, 1)] * 4
    with pytest.raises(ValueError, match="split: axis 1 of size 3 cannot be split into 2"):
        F.split(x, 2, axis=1)


def test_split_gradient_with_unused_part(dtype):
    x = pdf.Tensor(np.arange(6, dtype=dtype), requires_grad=True)
    a, b = F.split(x, 3)  # torch: pieces of 3
    (a * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2, 0, 0, 0])


def test_shape_errors():
    x = pdf.ones(2, 3)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="permute"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(2, 3\)"):
        F.broadcast_to(x, (3, 3))
    with pytest.raises(ValueError, match="concatenate: shapes"):
        F.cat([x, pdf.ones(2, 4)])
    with pytest.raises(ValueError, match="stack: expected tensors of one shape"):
        F.stack([x, pdf.ones(3, 2)])
    with pytest.raises(ValueError, match="non-empty"):
        F.cat([])

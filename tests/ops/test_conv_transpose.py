"""conv_transpose1d / conv_transpose2d against PyTorch on both kernel paths and both dtypes (their
kernels are conv2d's; tests/ops/test_conv.py checks those against the references)."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from oracle import compare_with_torch

TF = torch.nn.functional


def _tol(dtype):
    # float32 convolutions sum up to a few hundred products in a different order than torch
    return dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else None


# (N, C_in, H, W, C_out/groups, kernel, stride, padding, output_padding, groups, dilation)
TRANSPOSED = [
    (2, 3, 4, 5, 2, 3, 2, 1, 1, 1, 1),
    (1, 4, 3, 3, 3, 2, 2, 0, 0, 2, 1),
    (2, 2, 5, 4, 1, 3, 1, 1, 1, 1, 2),  # output_padding >= stride, allowed by dilation
    (2, 6, 4, 3, 2, 1, 1, 0, 0, 3, 1),  # 1x1, stride 1: no col2im
    (0, 3, 4, 4, 2, 2, 2, 0, 0, 1, 1),  # empty batch
    (1, 2, 1, 1, 3, 2, 1, 0, 0, 1, 1),  # a single input pixel
]


@pytest.mark.parametrize("cfg", TRANSPOSED, ids=str)
def test_conv_transpose2d_matches_torch(cfg, dtype, kernels, rng):
    n, c, h, w, og, k, s, p, op, g, d = cfg
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((c, og, k, k)),
              rng.standard_normal(og * g)]
    kw = dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    compare_with_torch(lambda *t: F.conv_transpose2d(*t, **kw),
                       lambda *t: TF.conv_transpose2d(*t, **kw), arrays, dtype, tol=_tol(dtype))


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, True),
                                   (True, True, False)], ids=str)
def test_conv_transpose2d_gradient_subsets_match_torch(needs, dtype, kernels, rng):
    arrays = [rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((4, 3, 3, 2)),
              rng.standard_normal(6)]
    kw = dict(stride=2, padding=(1, 0), output_padding=1, groups=2)
    compare_with_torch(lambda *t: F.conv_transpose2d(*t, **kw),
                       lambda *t: TF.conv_transpose2d(*t, **kw), arrays, dtype, tol=_tol(dtype),
                       requires_grad=list(needs))


# (N, C_in, L, C_out/groups, kernel, stride, padding, output_padding, groups, dilation)
TRANSPOSED_1D = [
    (2, 3, 7, 2, 3, 2, 1, 1, 1, 1),
    (1, 4, 5, 3, 4, 3, 2, 0, 2, 2),
    (3, 2, 6, 2, 1, 1, 0, 0, 1, 1),
]


@pytest.mark.parametrize("cfg", TRANSPOSED_1D, ids=str)
def test_conv_transpose1d_matches_torch(cfg, dtype, kernels, rng):
    n, c, length, og, k, s, p, op, g, d = cfg
    arrays = [rng.standard_normal((n, c, length)), rng.standard_normal((c, og, k)),
              rng.standard_normal(og * g)]
    kw = dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    compare_with_torch(lambda *t: F.conv_transpose1d(*t, **kw),
                       lambda *t: TF.conv_transpose1d(*t, **kw), arrays, dtype, tol=_tol(dtype))


def test_conv_transpose_unbatched_and_noncontiguous(kernels, dtype, rng):
    x = rng.standard_normal((5, 3, 4)).astype(dtype).transpose(1, 2, 0)  # (3, 4, 5), strided
    w = rng.standard_normal((3, 2, 3, 3)).astype(dtype)
    out = F.conv_transpose2d(pdf.Tensor(x), pdf.Tensor(w), stride=2)
    ref = TF.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2)
    assert out.shape == tuple(ref.shape) == (2, 9, 11)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=2e-4, atol=2e-4)
    x1 = rng.standard_normal((3, 6)).astype(dtype)
    w1 = rng.standard_normal((3, 2, 2)).astype(dtype)
    out1 = F.conv_transpose1d(pdf.Tensor(x1), pdf.Tensor(w1), stride=2)
    ref1 = TF.conv_transpose1d(torch.tensor(x1), torch.tensor(w1), stride=2)
    np.testing.assert_allclose(out1.numpy(), ref1.numpy(), rtol=2e-4, atol=2e-4)


def test_conv_transpose_bad_inputs():
    x = pdf.Tensor(np.zeros((1, 4, 5, 5), np.float32))
    with pytest.raises(ValueError, match="output_padding .2, 2. must be smaller"):
        F.conv_transpose2d(x, pdf.Tensor(np.zeros((4, 2, 3, 3), np.float32)), stride=2,
                           output_padding=2)
    with pytest.raises(ValueError, match=r"conv_transpose2d: input \(1, 4, 5, 5\) does not match "
                                         r"weight \(3, 2, 3, 3\)"):
        F.conv_transpose2d(x, pdf.Tensor(np.zeros((3, 2, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected bias of shape \(4,\)"):
        F.conv_transpose2d(x, pdf.Tensor(np.zeros((4, 2, 3, 3), np.float32)), groups=2,
                           bias=pdf.Tensor(np.zeros(2, np.float32)))
    x1 = pdf.Tensor(np.zeros((1, 4, 5), np.float32))
    with pytest.raises(ValueError, match="conv_transpose1d: expected a weight with 3 dimensions"):
        F.conv_transpose1d(x1, pdf.Tensor(np.zeros((4, 2, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"conv_transpose1d: the output size \(-1,\)"):
        F.conv_transpose1d(x1, pdf.Tensor(np.zeros((4, 2, 3), np.float32)), padding=4)
    with pytest.raises(TypeError, match="conv_transpose1d: input, weight and bias must share"):
        F.conv_transpose1d(x1, pdf.Tensor(np.zeros((4, 2, 3))))

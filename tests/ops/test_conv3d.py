"""conv3d and padding='same'/'valid' for conv1d/2d/3d against PyTorch, forward and backward
(input, weight, bias), both dtypes, on both im2col kernel paths; bad arguments."""
import warnings

import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.nn.functional as F
from oracle import compare_with_torch

TF = torch.nn.functional

CONV3D = [dict(), dict(stride=2, padding=1), dict(stride=(1, 2, 1), padding=(2, 0, 1),
                                                  dilation=(2, 1, 2)),
          dict(groups=2), dict(padding="same", dilation=(1, 2, 1)), dict(padding="valid")]


@pytest.mark.parametrize("kw", CONV3D, ids=str)
def test_conv3d_matches_torch(kw, dtype, kernels, rng):
    x = rng.standard_normal((2, 4, 5, 6, 7))
    w = rng.standard_normal((6, 4 // kw.get("groups", 1), 3, 2, 3))
    b = rng.standard_normal(6)
    compare_with_torch(lambda *t: F.conv3d(*t, **kw), lambda *t: TF.conv3d(*t, **kw), [x, w, b],
                       dtype)


def test_conv3d_unbatched_noncontiguous_without_bias(kernels, rng):
    x = rng.standard_normal((6, 5, 4, 3)).transpose(3, 2, 1, 0)  # (3, 4, 5, 6), strided
    w = rng.standard_normal((2, 3, 2, 2, 2))
    compare_with_torch(lambda *t: F.conv3d(*t, stride=2), lambda *t: TF.conv3d(*t, stride=2),
                       [x, w], np.float64)


def _same(conv_pd, conv_th, x_shape, w_shape, kw, dtype, rng):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that even kernels copy the input
        out = compare_with_torch(lambda *t: conv_pd(*t, **kw), lambda *t: conv_th(*t, **kw),
                                 [x, w], dtype)
    return out


@pytest.mark.parametrize("kernel,dilation", [(3, 1), (2, 1), (4, 1), (2, 3), (1, 1)], ids=str)
def test_conv1d_and_conv2d_same_padding_match_torch(kernel, dilation, dtype, kernels, rng):
    kw = dict(padding="same", dilation=dilation)
    out = _same(F.conv2d, TF.conv2d, (2, 3, 6, 7), (4, 3, kernel, kernel + 1), kw, dtype, rng)
    assert out.shape[2:] == (6, 7)
    out = _same(F.conv1d, TF.conv1d, (2, 3, 7), (4, 3, kernel), kw, dtype, rng)
    assert out.shape[2:] == (7,)


def test_conv3d_same_padding_with_even_kernels_matches_torch(kernels, rng):
    out = _same(F.conv3d, TF.conv3d, (1, 2, 4, 5, 6), (3, 2, 2, 3, 4), dict(padding="same"),
                np.float64, rng)
    assert out.shape[2:] == (4, 5, 6)


@pytest.mark.parametrize("conv,x_shape,w_shape,kw,error,match", [
    (F.conv2d, (1, 2, 5, 5), (3, 2, 3, 3), dict(padding="same", stride=2), ValueError,
     "not supported for strided"),
    (F.conv2d, (1, 2, 5, 5), (3, 2, 3, 3), dict(padding="full"), ValueError,
     "'valid' or 'same'"),
    (F.conv3d, (2, 5, 5), (3, 2, 3, 3, 3), dict(), ValueError, r"5-D \(batched\) or 4-D"),
    (F.conv3d, (1, 2, 5, 5, 5), (3, 2, 3, 3), dict(), ValueError, "weight with 5 dimensions"),
    (F.conv3d, (1, 4, 5, 5, 5), (3, 2, 3, 3, 3), dict(), ValueError, "does not match weight"),
    (F.conv3d, (1, 2, 2, 5, 5), (3, 2, 3, 3, 3), dict(), ValueError, "larger than the padded"),
], ids=str)
def test_conv_rejects_bad_arguments(conv, x_shape, w_shape, kw, error, match):
    with pytest.raises(error, match=match):
        conv(pdf.Tensor(np.zeros(x_shape)), pdf.Tensor(np.zeros(w_shape)), **kw)


def test_conv3d_rejects_mixed_dtypes():
    with pytest.raises(TypeError, match="share a dtype"):
        F.conv3d(pdf.Tensor(np.zeros((1, 1, 3, 3, 3), np.float32)),
                 pdf.Tensor(np.zeros((1, 1, 2, 2, 2))))

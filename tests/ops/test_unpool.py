"""max_pool1d/2d(return_indices=True) and max_unpool1d/2d against PyTorch, on both pooling
kernel paths, forward and backward in both dtypes; bad arguments."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.nn.functional as F
from oracle import compare_with_torch

TF = torch.nn.functional

POOLS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=(3, 2), stride=(2, 1), dilation=(1, 2), ceil_mode=True)]


@pytest.mark.parametrize("kw", POOLS, ids=str)
def test_max_pool2d_returns_torchs_indices(kw, dtype, kernels, rng):
    out = compare_with_torch(lambda t: F.max_pool2d(t, return_indices=True, **kw),
                             lambda t: TF.max_pool2d(t, return_indices=True, **kw),
                             [rng.standard_normal((2, 3, 7, 8))], dtype)
    assert out[1].dtype == np.int64 and not out[1].requires_grad


def test_max_pool1d_returns_indices_unbatched(kernels, rng):
    compare_with_torch(lambda t: F.max_pool1d(t, 3, 2, 1, return_indices=True),
                       lambda t: TF.max_pool1d(t, 3, 2, 1, return_indices=True),
                       [rng.standard_normal((3, 9))], np.float64)


@pytest.mark.parametrize("size,kw,output_size", [
    ((7, 8), dict(kernel_size=2), None), ((7, 7), dict(kernel_size=3, stride=2, padding=1), None),
    ((7, 8), dict(kernel_size=3, stride=2, padding=1), (7, 8)),
    ((7, 8), dict(kernel_size=2), (1, 3, 7, 9)),
], ids=str)
def test_max_unpool2d_matches_torch(size, kw, output_size, dtype, kernels, rng):
    x = rng.standard_normal((2, 3) + size)
    _, idx = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    pool_kw = {k: v for k, v in kw.items() if k in ("kernel_size", "stride", "padding")}
    values = rng.standard_normal(tuple(idx.shape))
    compare_with_torch(lambda v, i: F.max_unpool2d(v, i, output_size=output_size, **pool_kw),
                       lambda v, i: TF.max_unpool2d(v, i, output_size=output_size, **pool_kw),
                       [values, idx.numpy()], dtype)


def test_max_unpool1d_and_unbatched_2d_match_torch(rng):
    x = torch.tensor(rng.standard_normal((2, 3, 10)))
    _, idx = TF.max_pool1d(x, 2, return_indices=True)
    values = rng.standard_normal(tuple(idx.shape))
    compare_with_torch(lambda v, i: F.max_unpool1d(v, i, 2), lambda v, i: TF.max_unpool1d(v, i, 2),
                       [values, idx.numpy()], np.float64)
    _, idx = TF.max_pool2d(x, 2, return_indices=True)
    compare_with_torch(lambda v, i: F.max_unpool2d(v, i, 2), lambda v, i: TF.max_unpool2d(v, i, 2),
                       [rng.standard_normal(tuple(idx.shape)), idx.numpy()], np.float64)


def test_unpool_of_pool_keeps_the_maxima_in_place():
    x = pdf.Tensor(np.array([[[[1.0, 5.0], [3.0, 2.0]]]]))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(F.max_unpool2d(y, idx, 2).numpy(), [[[[0, 5], [0, 0]]]])


@pytest.mark.parametrize("indices,kwargs,match", [
    (np.array([[[[4]]]]), {}, r"indices must lie in \[0, 4\)"),
    (np.array([[[[-1]]]]), {}, "indices must lie"),
    (np.array([[[0]]]), {}, "of the input's shape"),
    (np.array([[[[0.0]]]]), {}, "integer tensor"),
    (np.array([[[[0]]]]), {"output_size": (0, 2)}, "positive sizes"),
    (np.array([[[[0]]]]), {"output_size": (4, 2)}, "strictly between 0 and 4"),
], ids=str)
def test_max_unpool2d_rejects_bad_indices(indices, kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.max_unpool2d(pdf.Tensor(np.ones((1, 1, 1, 1))), pdf.Tensor(indices), 2, **kwargs)

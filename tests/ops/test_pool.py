"""Max, average and adaptive average pooling (1-D and 2-D) against PyTorch and against the
NumPy references, on both kernel paths and both dtypes."""
import numpy as np
import pytest
from oracle import torch  # noqa: F401  (skips this module when PyTorch is missing)

import pydyfast as pdf
import pydyfast.functional as F
from pydyfast import backend
from pydyfast.ops import pool
from pydyfast.testing import gradcheck
from oracle import compare_with_torch

TF = torch.nn.functional

MAX2D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=(3, 2), stride=(2, 3), padding=1, dilation=2, ceil_mode=True),
         dict(kernel_size=2, stride=3), dict(kernel_size=3, stride=1, ceil_mode=True)]
AVG2D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
         dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True),
         dict(kernel_size=2, stride=3)]
SHAPES2D = [(2, 3, 7, 9), (1, 1, 5, 4)]  # odd sizes; batch 1 with one channel


@pytest.mark.parametrize("shape", SHAPES2D, ids=str)
@pytest.mark.parametrize("kw", MAX2D, ids=str)
def test_max_pool2d_matches_torch(kw, shape, dtype, kernels, rng):
    compare_with_torch(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw),
                       [rng.standard_normal(shape)], dtype)


@pytest.mark.parametrize("shape", SHAPES2D, ids=str)
@pytest.mark.parametrize("kw", AVG2D, ids=str)
def test_avg_pool2d_matches_torch(kw, shape, dtype, kernels, rng):
    compare_with_torch(lambda t: F.avg_pool2d(t, **kw), lambda t: TF.avg_pool2d(t, **kw),
                       [rng.standard_normal(shape)], dtype)


@pytest.mark.parametrize("out", [(3, 4), 5, (None, 2), 1, (7, 9)], ids=str)
def test_adaptive_avg_pool2d_matches_torch(out, dtype, kernels, rng):
    compare_with_torch(lambda t: F.adaptive_avg_pool2d(t, out),
                       lambda t: TF.adaptive_avg_pool2d(t, out),
                       [rng.standard_normal((2, 3, 7, 9))], dtype)


@pytest.mark.parametrize("name,kw", [
    ("max_pool1d", dict(kernel_size=2)),
    ("max_pool1d", dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("avg_pool1d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False,
                        ceil_mode=True)),
    ("avg_pool1d", dict(kernel_size=4, stride=1, padding=2)),
    ("adaptive_avg_pool1d", dict(output_size=4)),
], ids=str)
def test_pool1d_matches_torch(name, kw, dtype, kernels, rng):
    compare_with_torch(lambda t: getattr(F, name)(t, **kw), lambda t: getattr(TF, name)(t, **kw),
                       [rng.standard_normal((2, 3, 11))], dtype)


def test_unbatched_and_noncontiguous_inputs(kernels, rng):
    x = rng.standard_normal((9, 3, 7)).transpose(1, 2, 0)  # (3, 7, 9), not contiguous
    compare_with_torch(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x],
                       np.float64)
    compare_with_torch(lambda t: F.avg_pool1d(t, 3), lambda t: TF.avg_pool1d(t, 3),
                       [x[0]], np.float64)


def test_max_pool_ties_nan_and_overlap_follow_torch(kernels):
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, np.nan, 2.0], [0.0, 3.0, 3.0]]]])
    compare_with_torch(lambda t: F.max_pool2d(t, 2, stride=1), lambda t: TF.max_pool2d(t, 2, 1),
                       [np.nan_to_num(x, nan=1.0)], np.float64)  # ties: the first tap wins
    out = F.max_pool2d(pdf.Tensor(x), 2, stride=1).numpy()
    assert np.isnan(out[0, 0, 0, 0]) and np.isnan(out[0, 0, 1, 1])
    # overlapping windows that pick the same pixel add their gradients there
    y = pdf.Tensor(np.array([[[[0.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 0.0]]]]),
                   requires_grad=True)
    F.max_pool2d(y, 2, stride=1).sum().backward()
    assert y.grad.numpy()[0, 0, 1, 1] == 4.0 and y.grad.numpy().sum() == 4.0


@pytest.mark.parametrize("kw", MAX2D + [dict(kernel_size=1)], ids=str)
def test_max_pool2d_compiled_matches_reference(kw, dtype, rng):
    x = rng.standard_normal((2, 3, 8, 7)).astype(dtype)
    kernel, stride, padding, dilation = pool._pool_geometry(
        "t", 2, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0), kw.get("dilation", 1))
    geometry = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    out_size = pool.pool_output_size("t", (8, 7), **geometry, ceil_mode=kw.get("ceil_mode", False))
    y, idx = backend._C.max_pool2d_fwd(x, out_size=out_size, **geometry)
    y_ref, idx_ref = pool._max_pool2d_ref(np, x, out_size=out_size, **geometry)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    gy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(backend._C.max_pool2d_bwd(gy, idx, size=(8, 7)),
                               pool._max_pool2d_bwd_ref(np, gy, idx, (8, 7)), rtol=1e-5, atol=1e-6)


def test_avg_pool_compiled_matches_reference(dtype, rng):
    x = rng.standard_normal((2, 3, 8, 7)).astype(dtype)
    hs, he, hscale = pool._adaptive_windows(8, 3)
    ws, we, wscale = pool._avg_windows(7, 3, 2, 1, 4, False)
    win = dict(h_start=hs, h_end=he, h_scale=hscale, w_start=ws, w_end=we, w_scale=wscale)
    np.testing.assert_allclose(backend._C.avg_pool2d_fwd(x, **win),
                               pool._avg_pool2d_ref(np, x, **win), rtol=1e-5)
    gy = rng.standard_normal((2, 3, 3, 4)).astype(dtype)
    np.testing.assert_allclose(backend._C.avg_pool2d_bwd(gy, size=(8, 7), **win),
                               pool._avg_pool2d_bwd_ref(np, gy, (8, 7), **win), rtol=1e-5)


def test_pool_gradcheck_float64(kernels, rng):
    x = pdf.Tensor(rng.standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False), [x])
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (2, 4)), [x])
    assert gradcheck(lambda t: F.max_pool2d(t, 2, 1), [x])


def test_pool_bad_inputs():
    x = pdf.Tensor(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="max_pool2d: padding .2, 2. should be at most half"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: input size \(5, 5\) is too small"):
        F.avg_pool2d(x, 6)
    with pytest.raises(ValueError, match="max_pool1d: expected a 3-D .batched. or 2-D input"):
        F.max_pool1d(x, 2)
    with pytest.raises(TypeError, match="avg_pool2d: input must be floating point"):
        F.avg_pool2d(pdf.Tensor(np.zeros((1, 1, 4, 4), np.int64)), 2)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d: output_size must be >= 1"):
        F.adaptive_avg_pool2d(x, 0)
    with pytest.raises(ValueError, match="adaptive_avg_pool1d: output_size must be an int or 1"):
        F.adaptive_avg_pool1d(pdf.Tensor(np.zeros((1, 2, 5), np.float32)), (2, 2))
    with pytest.raises(ValueError, match=r"max_pool2d backward: expected gy and idx"):
        backend._C.max_pool2d_bwd(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 3), np.int64),
                                  size=(4, 4))

"""conv1d / conv2d / conv_transpose2d and the raw im2col / col2im kernels, against PyTorch and
against the NumPy references, on both kernel paths and both dtypes."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from pydyfast import backend
from pydyfast.ops import conv
from pydyfast.testing import gradcheck
from oracle import compare_with_torch

TF = torch.nn.functional


def _tol(dtype):
    # float32 convolutions sum up to a few hundred products in a different order than torch
    return dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else None


# (N, C, H, W, O, kernel, stride, padding, dilation, groups, bias)
CONV2D = [
    (2, 3, 7, 9, 4, 3, 1, 1, 1, 1, True),
    (1, 1, 5, 5, 1, 2, 3, 1, 1, 1, False),        # batch 1, one channel, stride > kernel
    (3, 4, 8, 6, 6, (3, 2), (2, 1), (2, 1), 1, 2, True),  # padding = kernel - 1, groups
    (2, 6, 9, 7, 6, 3, 2, 0, 2, 3, True),          # dilation, odd sizes, groups
    (1, 2, 4, 4, 3, 4, 1, 0, 1, 1, True),          # kernel covers the whole input
]


@pytest.mark.parametrize("cfg", CONV2D, ids=str)
def test_conv2d_matches_torch(cfg, dtype, kernels, rng):
    n, c, h, w, o, k, s, p, d, g, with_bias = cfg
    kh, kw = (k, k) if isinstance(k, int) else k
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c // g, kh, kw))]
    arrays += [rng.standard_normal(o)] if with_bias else []
    compare_with_torch(lambda *t: F.conv2d(*t, stride=s, padding=p, dilation=d, groups=g),
                       lambda *t: TF.conv2d(*t, stride=s, padding=p, dilation=d, groups=g),
                       arrays, dtype, tol=_tol(dtype))


@pytest.mark.parametrize("cfg", [(2, 3, 11, 4, 3, 1, 1, 1, 1), (1, 1, 6, 2, 2, 5, 1, 1, 1),
                                 (2, 4, 13, 6, 3, 2, 2, 2, 2)], ids=str)
def test_conv1d_matches_torch(cfg, dtype, kernels, rng):
    n, c, length, o, k, s, p, d, g = cfg
    arrays = [rng.standard_normal((n, c, length)), rng.standard_normal((o, c // g, k)),
              rng.standard_normal(o)]
    compare_with_torch(lambda *t: F.conv1d(*t, stride=s, padding=p, dilation=d, groups=g),
                       lambda *t: TF.conv1d(*t, stride=s, padding=p, dilation=d, groups=g),
                       arrays, dtype, tol=_tol(dtype))


# (N, C_in, H, W, C_out/groups, kernel, stride, padding, output_padding, groups, dilation)
TRANSPOSED = [
    (2, 3, 4, 5, 2, 3, 2, 1, 1, 1, 1),
    (1, 4, 3, 3, 3, 2, 2, 0, 0, 2, 1),
    (2, 2, 5, 4, 1, 3, 1, 1, 1, 1, 2),  # output_padding >= stride, allowed by dilation
]


@pytest.mark.parametrize("cfg", TRANSPOSED, ids=str)
def test_conv_transpose2d_matches_torch(cfg, dtype, kernels, rng):
    n, c, h, w, og, k, s, p, op, g, d = cfg
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((c, og, k, k)),
              rng.standard_normal(og * g)]
    kw = dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    compare_with_torch(lambda *t: F.conv_transpose2d(*t, **kw),
                       lambda *t: TF.conv_transpose2d(*t, **kw), arrays, dtype, tol=_tol(dtype))


GEOMETRIES = [((3, 3), (1, 1), (1, 1), (1, 1)), ((2, 3), (3, 2), (1, 2), (1, 1)),
              ((3, 2), (2, 1), (0, 1), (2, 3)), ((1, 1), (1, 1), (0, 0), (1, 1))]


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_im2col_col2im_compiled_match_reference(geometry, dtype, rng):
    kernel, stride, padding, dilation = geometry
    x = rng.standard_normal((2, 3, 7, 8)).astype(dtype)
    kw = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    col = backend._C.im2col(x, **kw)
    np.testing.assert_array_equal(col, conv._im2col_ref(np, x, **kw))
    c = rng.standard_normal(col.shape).astype(dtype)
    np.testing.assert_allclose(backend._C.col2im(c, size=(7, 8), **kw),
                               conv._col2im_ref(np, c, (7, 8), **kw), rtol=1e-6, atol=1e-6)
    # col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>
    lhs, rhs = float((col * c).sum()), float((x * conv.col2im(c, (7, 8), *geometry)).sum())
    assert abs(lhs - rhs) <= 1e-3 * max(1.0, abs(lhs))


def test_im2col_matches_torch_unfold_and_fold(kernels, rng):
    x = rng.standard_normal((2, 3, 6, 7))
    col = conv.im2col(x, (2, 3), stride=(2, 1), padding=1, dilation=(1, 2))
    ref = TF.unfold(torch.tensor(x), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    np.testing.assert_allclose(col, ref.numpy())
    back = conv.col2im(col, (6, 7), (2, 3), stride=(2, 1), padding=1, dilation=(1, 2))
    ref = TF.fold(ref, (6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    np.testing.assert_allclose(back, ref.numpy(), rtol=1e-12)
    x1 = rng.standard_normal((2, 3, 9))
    col1 = conv.im2col1d(x1, 3, stride=2, padding=1)
    np.testing.assert_allclose(col1, conv.im2col(x1[:, :, None], (1, 3), (1, 2), (0, 1)))
    assert conv.col2im1d(col1, 9, 3, stride=2, padding=1).shape == (2, 3, 9)


def test_conv2d_input_gradient_accumulates_overlapping_windows(kernels, dtype):
    """PyDyNet assigned overlapping windows in col2im; every pixel must sum all its windows."""
    x = pdf.Tensor(np.ones((1, 1, 4, 4), dtype), requires_grad=True)
    w = pdf.Tensor(np.ones((1, 1, 3, 3), dtype))
    F.conv2d(x, w, padding=1).sum().backward()
    # pixel (i, j) lies in as many 3x3 windows as it has neighbours within the 4x4 image
    counts = np.array([2, 3, 3, 2], dtype)
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], np.outer(counts, counts))


def test_conv2d_noncontiguous_and_unbatched_inputs(kernels, dtype, rng):
    x = rng.standard_normal((5, 3, 2, 6)).astype(dtype).transpose(2, 1, 3, 0)  # (2, 3, 6, 5)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    out = F.conv2d(pdf.Tensor(x), pdf.Tensor(w), padding=1)
    ref = TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=2e-4, atol=2e-4)
    single = F.conv2d(pdf.Tensor(x[0]), pdf.Tensor(w), padding=1)
    assert single.shape == (4, 6, 5)
    np.testing.assert_allclose(single.numpy(), ref.numpy()[0], rtol=2e-4, atol=2e-4)


def test_conv_gradcheck_float64(kernels, rng):
    x = pdf.Tensor(rng.standard_normal((1, 2, 5, 4)), requires_grad=True)
    w = pdf.Tensor(rng.standard_normal((2, 1, 2, 3)), requires_grad=True)
    b = pdf.Tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2),
                     [x, w, b])
    wt = pdf.Tensor(rng.standard_normal((2, 1, 3, 2)), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1),
                     [x, wt])


def test_conv_without_weight_gradient_saves_nothing_it_does_not_need(kernels, rng):
    x = pdf.Tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = pdf.Tensor(rng.standard_normal((3, 2, 3, 3)))
    y = F.conv2d(x, w)
    assert y.grad_fn.saved_tensors[1] is None  # no im2col buffer kept for a frozen weight
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad is None


def test_conv_bad_inputs():
    x = pdf.Tensor(np.zeros((1, 4, 5, 5), np.float32))
    w = pdf.Tensor(np.zeros((2, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv2d: input \(1, 4, 5, 5\) with groups=1"):
        F.conv2d(x, w)
    w4 = pdf.Tensor(np.zeros((2, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv2d: expected bias of shape \(2,\)"):
        F.conv2d(x, w4, pdf.Tensor(np.zeros((1, 2, 1, 1), np.float32)))
    with pytest.raises(TypeError, match="must share a dtype"):
        F.conv2d(x, pdf.Tensor(np.zeros((2, 4, 3, 3))))
    with pytest.raises(ValueError, match="dilated kernel size 7 is larger than the padded"):
        F.conv2d(x, w4, dilation=3)
    with pytest.raises(ValueError, match="conv2d: stride must be >= 1"):
        F.conv2d(x, w4, stride=0)
    with pytest.raises(TypeError, match="conv2d: padding must be an int or 2 ints"):
        F.conv2d(x, w4, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="conv2d: expected a 4-D .batched. or 3-D input"):
        F.conv2d(pdf.Tensor(np.zeros((1, 1, 4, 5, 5), np.float32)), w4)
    with pytest.raises(ValueError, match=r"conv1d: input \(1, 4, 5\) with groups=2 does not"):
        F.conv1d(pdf.Tensor(np.zeros((1, 4, 5), np.float32)),
                 pdf.Tensor(np.zeros((3, 2, 3), np.float32)), groups=2)
    with pytest.raises(ValueError, match="conv1d: the dilated kernel size 5 is larger"):
        F.conv1d(pdf.Tensor(np.zeros((1, 2, 3), np.float32)),
                 pdf.Tensor(np.zeros((3, 2, 5), np.float32)))
    with pytest.raises(ValueError, match="conv1d: expected a weight with 3 dimensions"):
        F.conv1d(pdf.Tensor(np.zeros((1, 4, 5), np.float32)), w4)
    with pytest.raises(ValueError, match="output_padding .2, 2. must be smaller"):
        F.conv_transpose2d(x, pdf.Tensor(np.zeros((4, 2, 3, 3), np.float32)), stride=2,
                           output_padding=2)
    with pytest.raises(ValueError, match=r"col2im: expected col of shape"):
        conv.col2im(np.zeros((1, 10, 4)), (3, 3), 3, padding=1)
    with pytest.raises(ValueError, match="im2col: the dilated kernel"):
        backend._C.im2col(np.zeros((1, 1, 2, 2)), kernel=(3, 3), stride=(1, 1), padding=(0, 0),
                          dilation=(1, 1))

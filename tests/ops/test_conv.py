"""conv1d / conv2d, their compiled kernels (csrc/conv.cpp) and the raw im2col / col2im kernels,
against PyTorch and against the NumPy references, on both kernel paths and both dtypes."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from pydyfast import backend
from pydyfast.ops import conv, conv_transpose
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
    (2, 4, 5, 6, 6, 1, 1, 0, 1, 2, True),          # 1x1, stride 1, no padding: no im2col
    (2, 3, 7, 6, 4, 1, 2, 1, 1, 1, False),         # 1x1 with stride and padding: im2col
    (0, 3, 5, 5, 2, 3, 1, 1, 1, 1, True),          # empty batch
    (2, 5, 40, 37, 3, 3, 1, 1, 1, 1, True),        # several row tiles per image
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


# (N, C, H, W, O, kernel, stride, padding, dilation, groups): the kernels' code paths
KERNEL_CASES = [
    (2, 4, 9, 8, 6, (3, 2), (2, 1), (1, 2), (1, 2), 2),  # groups, stride, padding, dilation
    (3, 6, 5, 7, 9, (1, 1), (1, 1), (0, 0), (1, 1), 3),  # 1x1 without im2col, groups
    (2, 3, 6, 5, 4, (1, 1), (2, 1), (1, 0), (1, 1), 1),  # 1x1 through im2col
    (2, 5, 40, 37, 3, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # several tiles, parallel over them
    (1, 1, 1, 1, 2, (1, 1), (1, 1), (0, 0), (1, 1), 1),  # size 1 everywhere
    (0, 2, 4, 4, 3, (2, 2), (1, 1), (0, 0), (1, 1), 1),  # empty batch: zero gradients
]


def _kernel_arrays(case, dtype, rng):
    n, c, h, w, o, k, s, p, d, g = case
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((o, c // g) + k).astype(dtype)
    params = dict(stride=s, padding=p, dilation=d, groups=g)
    out = conv.conv_output_size("test", (h, w), kernel=k, stride=s, padding=p, dilation=d)
    gy = rng.standard_normal((n, o) + out).astype(dtype)
    return x, weight, gy, params


def _assert_close(actual, expected, dtype):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("case", KERNEL_CASES, ids=str)
def test_conv_kernels_match_the_reference(case, dtype, rng, monkeypatch):
    """Every compiled convolution kernel against its NumPy reference (run on the NumPy im2col
    and col2im), each optional output on and off."""
    x, weight, gy, params = _kernel_arrays(case, dtype, rng)
    bias = rng.standard_normal(weight.shape[0]).astype(dtype)
    image_bias = rng.standard_normal(x.shape[1]).astype(dtype)
    native = backend._C
    monkeypatch.setattr(backend, "_kernels", "numpy")  # the references' own im2col / col2im
    for b in (bias, None):
        _assert_close(native.conv2d_fwd(x, weight, b, **params),
                      conv._conv2d_fwd_ref(np, x, weight, b, **params), dtype)
    for b in (image_bias, None):
        _assert_close(native.conv2d_bwd_input(gy, weight, b, size=x.shape[2:], **params),
                      conv._conv2d_bwd_input_ref(np, gy, weight, b, size=x.shape[2:], **params),
                      dtype)
    for input_grad, bias_grad in ((True, True), (False, False)):
        got = native.conv2d_bwd(x, weight, gy, input_grad=input_grad, bias_grad=bias_grad,
                                **params)
        want = conv._conv2d_bwd_ref(np, x, weight, gy, input_grad=input_grad,
                                    bias_grad=bias_grad, **params)
        for a, e in zip(got, want):
            assert (a is None) == (e is None)
            if a is not None:
                _assert_close(a, e, dtype)
    # conv_transpose2d's backward: the transposed input is gy-shaped, its output gradient x-shaped
    for input_grad in (True, False):
        got = native.conv_transpose2d_bwd(gy, weight, x, input_grad=input_grad, **params)
        want = conv_transpose._conv_transpose2d_bwd_ref(np, gy, weight, x,
                                                        input_grad=input_grad, **params)
        assert (got[0] is None) == (not input_grad)
        for a, e in zip(got, want):
            if a is not None:
                _assert_close(a, e, dtype)


def test_conv_kernel_results_do_not_depend_on_the_thread_count(rng):
    x, weight, gy, params = _kernel_arrays(KERNEL_CASES[3], np.float64, rng)
    previous = pdf.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            pdf.set_num_threads(threads)
            results.append([backend._C.conv2d_fwd(x, weight, None, **params),
                            *backend._C.conv2d_bwd(x, weight, gy, input_grad=True,
                                                   bias_grad=True, **params)])
    finally:
        pdf.set_num_threads(previous)
    for one, two in zip(*results):
        np.testing.assert_allclose(one, two, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False),
                                   (False, False, True), (True, False, True)], ids=str)
def test_conv2d_gradient_subsets_match_torch(needs, dtype, kernels, rng):
    """Each backward path: input only (no weight gradient), weight only, bias only."""
    arrays = [rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 3)),
              rng.standard_normal(6)]
    kw = dict(stride=(1, 2), padding=1, groups=2)
    compare_with_torch(lambda *t: F.conv2d(*t, **kw), lambda *t: TF.conv2d(*t, **kw), arrays,
                       dtype, tol=_tol(dtype), requires_grad=list(needs))


def test_conv_kernels_bad_inputs():
    _C, f32 = backend._C, np.float32
    x, w = np.zeros((2, 4, 5, 5), f32), np.zeros((6, 2, 3, 3), f32)
    geometry = dict(stride=(1, 1), padding=(1, 1), dilation=(1, 1))
    with pytest.raises(ValueError, match=r"conv2d_fwd: expected x of shape \(2, 2, 5, 5\)"):
        _C.conv2d_fwd(x, w, None, groups=1, **geometry)  # 4 channels, weight wants 2
    with pytest.raises(ValueError, match="conv2d_fwd: groups must be positive and divide"):
        _C.conv2d_fwd(x, w, None, groups=4, **geometry)
    with pytest.raises(ValueError, match="conv2d_fwd: groups must be positive"):
        _C.conv2d_fwd(x, w, None, groups=0, **geometry)
    with pytest.raises(ValueError, match=r"conv2d_fwd: expected bias of shape \(6,\), got \(4,\)"):
        _C.conv2d_fwd(x, w, np.zeros(4, f32), groups=2, **geometry)
    with pytest.raises(ValueError, match=r"conv2d_fwd: expected a weight of shape"):
        _C.conv2d_fwd(x, np.zeros((6, 2, 3), f32), None, groups=2, **geometry)
    with pytest.raises(ValueError, match=r"conv2d_bwd: expected gy of shape \(2, 6, 5, 5\)"):
        _C.conv2d_bwd(x, w, np.zeros((2, 6, 4, 5), f32), groups=2, input_grad=True,
                      bias_grad=False, **geometry)
    with pytest.raises(ValueError, match=r"conv2d_bwd_input: expected gy of shape"):
        _C.conv2d_bwd_input(np.zeros((2, 6, 5), f32), w, None, size=(5, 5), groups=2,
                            **geometry)
    with pytest.raises(ValueError, match=r"conv_transpose2d_bwd: expected x of shape"):
        _C.conv_transpose2d_bwd(np.zeros((2, 5, 5, 5), f32), w, x, groups=2, input_grad=True,
                                **geometry)
    with pytest.raises(ValueError, match="conv2d_fwd: the dilated kernel"):
        _C.conv2d_fwd(x, w, None, groups=2, stride=(1, 1), padding=(0, 0), dilation=(3, 3))
    with pytest.raises(ValueError, match="conv2d_fwd: .*overflows"):
        _C.conv2d_fwd(x, w, None, groups=2, stride=(1, 1), padding=(2**62, 2**62),
                      dilation=(1, 1))
    with pytest.raises(TypeError):  # mixed dtypes and strided arrays never reach a kernel
        _C.conv2d_fwd(x, w.astype(np.float64), None, groups=2, **geometry)
    with pytest.raises(TypeError):
        _C.conv2d_fwd(x[:, :, :, ::2], w, None, groups=2, **geometry)

"""Issue 13 items 9-11 against torch: SDPA with fully masked rows, cross_entropy of an empty
batch, zero-size inputs, and argument errors that name the argument."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing
from oracle import compare_with_torch

import pydyfast as pdf
from pydyfast import nn
from pydyfast.nn import functional as F

TF = torch.nn.functional

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_sdpa_fully_masked_row_is_zero_with_finite_gradients(dtype, kernels, mask_kind):
    mask = np.ones((3, 5), bool)
    mask[1] = False
    if mask_kind == "float":
        mask = np.where(mask, 0.0, -np.inf).astype(dtype)
    out = compare_with_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask)),
        [randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 6)], dtype)
    assert not out.numpy()[:, :, 1].any()


@pytest.mark.parametrize("q_len,k_len", [(0, 5), (3, 0), (0, 0)])
def test_sdpa_with_no_queries_or_no_keys(dtype, kernels, q_len, k_len):
    compare_with_torch(F.scaled_dot_product_attention, TF.scaled_dot_product_attention,
                       [randn(1, 2, q_len, 4), randn(1, 2, k_len, 4), randn(1, 2, k_len, 4)],
                       dtype)


@pytest.mark.parametrize("shape", [(0, 5), (0, 5, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_an_empty_batch(dtype, kernels, shape, reduction):
    target = np.zeros((0,) + shape[2:], np.int64)
    out = compare_with_torch(lambda x: F.cross_entropy(x, target, reduction=reduction),
                             lambda x: TF.cross_entropy(x, torch.tensor(target),
                                                        reduction=reduction), [randn(*shape)],
                             dtype)
    if reduction == "mean":
        assert np.isnan(out.item())


@pytest.mark.parametrize("fn,torch_fn", [(F.cross_entropy, TF.cross_entropy),
                                         (F.nll_loss, TF.nll_loss)])
def test_every_target_ignored_gives_nan_loss_and_zero_gradient(dtype, kernels, fn, torch_fn):
    target = np.array([-100, -100])
    compare_with_torch(lambda x: fn(x, target), lambda x: torch_fn(x, torch.tensor(target)),
                       [randn(2, 4)], dtype)


ZERO_SIZE = [
    ("conv2d batch 0", lambda x, w, b: F.conv2d(x, w, b, padding=1),
     lambda x, w, b: TF.conv2d(x, w, b, padding=1), [(0, 3, 5, 5), (4, 3, 3, 3), (4,)]),
    ("conv2d groups batch 0", lambda x, w: F.conv2d(x, w, groups=2),
     lambda x, w: TF.conv2d(x, w, groups=2), [(0, 4, 5, 5), (6, 2, 3, 3)]),
    ("conv1d batch 0", F.conv1d, TF.conv1d, [(0, 3, 5), (4, 3, 3)]),
    ("conv_transpose2d batch 0", lambda x, w: F.conv_transpose2d(x, w, stride=2),
     lambda x, w: TF.conv_transpose2d(x, w, stride=2), [(0, 3, 5, 5), (3, 4, 3, 3)]),
    ("matmul k=0", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 0), (0, 4)]),
    ("batched matmul k=0", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 0), (0, 4)]),
    ("matmul no output columns", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 5), (5, 0)]),
    ("linear k=0", F.linear, TF.linear, [(2, 3, 0), (4, 0)]),
    ("layer_norm (0,)", lambda x: F.layer_norm(x, (0,)), lambda x: TF.layer_norm(x, (0,)),
     [(3, 0)]),
    ("layer_norm batch 0", lambda x: F.layer_norm(x, (4,)), lambda x: TF.layer_norm(x, (4,)),
     [(0, 4)]),
]


@pytest.mark.parametrize("name,fn,torch_fn,shapes", ZERO_SIZE, ids=[c[0] for c in ZERO_SIZE])
def test_zero_size_inputs_give_empty_results_as_torch(dtype, kernels, name, fn, torch_fn, shapes):
    compare_with_torch(fn, torch_fn, [randn(*s) for s in shapes], dtype)


def test_conv2d_module_with_an_empty_batch_and_zero_channel_modules():
    y = nn.Conv2d(3, 4, 3)(pdf.tensor(np.zeros((0, 3, 5, 5), np.float32), requires_grad=True))
    assert y.shape == (0, 4, 3, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert nn.Conv2d(0, 4, 3).weight.shape == (4, 0, 3, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert nn.Linear(0, 3).weight.shape == (3, 0)


x4 = pdf.tensor(np.ones((1, 3, 5, 5), np.float32))
w4 = pdf.tensor(np.ones((4, 3, 3, 3), np.float32))
wt4 = pdf.tensor(np.ones((3, 4, 3, 3), np.float32))


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.conv2d(x4, w4, stride=1.5), TypeError, "conv2d: stride must be an int"),
    (lambda: F.conv2d(x4, w4, padding=2**63), ValueError, "conv2d: padding .* 64-bit"),
    (lambda: F.conv2d(x4, w4, padding=2**62), ValueError, "conv2d: .* 64-bit"),
    (lambda: F.conv2d(x4, w4, dilation=True), TypeError, "conv2d: dilation must be an int"),
    (lambda: F.conv_transpose2d(x4, wt4, dilation=2**62), ValueError,
     "conv_transpose2d: the output size .* 64-bit"),
    (lambda: F.max_pool2d(x4, 2, stride=1.5), TypeError, "max_pool2d: stride must be an int"),
    (lambda: F.avg_pool2d(x4, 2, padding=2**63), ValueError, "avg_pool2d: padding .* 64-bit"),
    (lambda: F.layer_norm(pdf.tensor(np.ones((2, 4), np.float32)), 4.0), TypeError,
     "layer_norm: normalized_shape must be an int or a sequence of ints, got 4.0"),
    (lambda: nn.Conv2d(3, 4, 1.5), TypeError, "Conv2d: kernel_size must be an int"),
])
def test_argument_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert len(str(info.value)) < 300  # no array dumped into the message


def test_sampler_refuses_nan_temperature():
    from llama.sampling import Sampler
    with pytest.raises(ValueError, match="temperature=nan"):
        Sampler(temperature=float("nan"))

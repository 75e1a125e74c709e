"""Losses against torch (functions and layers, every reduction, both dtypes, both kernel paths):
values, input and target gradients, stability at logits of +-1e4, and bad arguments."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import nn
from pydyfast.nn import functional as F
from pydyfast.testing import gradcheck

from nn.layer_oracle import compare_module
from oracle import compare_with_torch

TF = torch.nn.functional

REDUCTIONS = ["none", "mean", "sum"]
SHAPES = [(4, 3), (1,), (2, 3, 5)]


def _probabilities(rng, shape):
    return rng.uniform(0.02, 0.98, shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, kwargs", [("mse_loss", {}), ("l1_loss", {}),
                                          ("smooth_l1_loss", {}),
                                          ("smooth_l1_loss", {"beta": 0.5}),
                                          ("smooth_l1_loss", {"beta": 0.0})])
def test_regression_losses(name, kwargs, shape, reduction, dtype, kernels, rng):
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    compare_with_torch(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kwargs),
                       lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kwargs),
                       [x, y], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_binary_cross_entropy(shape, reduction, dtype, kernels, rng):
    p, t, w = _probabilities(rng, shape), _probabilities(rng, shape), rng.uniform(0, 2, shape)
    compare_with_torch(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
                       lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction),
                       [p, t], dtype)
    w = w.astype(dtype)  # torch's BCE has no gradient for weight: pass it as a constant
    compare_with_torch(lambda a, b: F.binary_cross_entropy(a, b, pdf.tensor(w),
                                                           reduction=reduction),
                       lambda a, b: TF.binary_cross_entropy(a, b, torch.tensor(w),
                                                            reduction=reduction),
                       [p, t], dtype)


def test_binary_cross_entropy_at_zero_and_one(dtype):
    """Logs clamped at -100 as in torch: finite loss and input gradient (torch's target
    gradient is inf there; ours uses the clamped logs, so it is not compared)."""
    p, t = np.array([0.0, 1.0, 0.0, 1.0], dtype), np.array([0.0, 1.0, 1.0, 0.0], dtype)
    x, tp = pdf.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    out = F.binary_cross_entropy(x, pdf.tensor(t), reduction="none")
    ref = TF.binary_cross_entropy(tp, torch.tensor(t), reduction="none")
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy())
    np.testing.assert_allclose(out.numpy(), [0, 0, 100, 100])
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tp.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits(shape, reduction, weighted, dtype, kernels, rng):
    x, t = rng.standard_normal(shape) * 3, _probabilities(rng, shape)
    pw = rng.uniform(0.5, 3, shape[-1]) if weighted else None
    w = rng.uniform(0, 2, shape) if weighted else None

    def run(f, cast):
        return lambda a, b: f(a, b, weight=None if w is None else cast(w),
                              pos_weight=None if pw is None else cast(pw), reduction=reduction)
    compare_with_torch(run(F.binary_cross_entropy_with_logits,
                           lambda a: pdf.tensor(a.astype(dtype))),
                       run(TF.binary_cross_entropy_with_logits,
                           lambda a: torch.tensor(a.astype(dtype))),
                       [x, t], dtype)


def test_bce_with_logits_is_stable_at_1e4(dtype):
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    t = np.array([1.0, 1.0, 0.5, 0.0, 0.0])
    out = compare_with_torch(lambda a, b: F.binary_cross_entropy_with_logits(a, b,
                                                                             reduction="none"),
                             lambda a, b: TF.binary_cross_entropy_with_logits(a, b,
                                                                              reduction="none"),
                             [x, t], dtype)
    assert np.all(np.isfinite(out.numpy())) and out.numpy()[0] == pytest.approx(1e4)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
# torch warns that its 'mean' will change to 'batchmean'; pydyfast follows today's 'mean'
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
def test_kl_div(reduction, log_target, dtype, kernels, rng):
    x = np.log(rng.dirichlet(np.ones(5), size=3))
    t = rng.dirichlet(np.ones(5), size=3)
    t = np.log(t + 1e-3) if log_target else t
    compare_with_torch(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                       lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
                       [x, t], dtype)


def test_kl_div_zero_target_contributes_zero(dtype):
    """t = 0 adds 0 (torch's xlogy); its target gradient is 0 here, nan in torch, so only the
    loss and the input gradient are compared."""
    x = np.log(np.array([[0.2, 0.3, 0.5]], dtype))
    t = np.array([[0.0, 0.4, 0.6]], dtype)
    a, ta = pdf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = F.kl_div(a, pdf.tensor(t), reduction="sum"), TF.kl_div(ta, torch.tensor(t),
                                                                      reduction="sum")
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)


def test_gradchecks(rng):
    x = pdf.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    p = pdf.tensor(_probabilities(rng, (3, 4)), requires_grad=True)
    t = pdf.tensor(_probabilities(rng, (3, 4)), requires_grad=True)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b), [p, t])
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b), [x, t])
    assert gradcheck(lambda a, b: F.smooth_l1_loss(a, b, beta=0.7), [x, t])
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), [x, t])


LOSS_LAYERS = [
    (nn.MSELoss(), torch.nn.MSELoss(), "real"),
    (nn.L1Loss("sum"), torch.nn.L1Loss(reduction="sum"), "real"),
    (nn.SmoothL1Loss(beta=0.3), torch.nn.SmoothL1Loss(beta=0.3), "real"),
    (nn.BCELoss(), torch.nn.BCELoss(), "prob"),
    (nn.BCEWithLogitsLoss(pos_weight=np.array([2.0, 1.0, 0.5])),
     torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 1.0, 0.5])), "prob"),
    (nn.KLDivLoss(reduction="batchmean"), torch.nn.KLDivLoss(reduction="batchmean"), "prob"),
]


@pytest.mark.parametrize("pair", LOSS_LAYERS, ids=[type(p[0]).__name__ for p in LOSS_LAYERS])
def test_loss_layers(pair, dtype, rng):
    m, t, kind = pair
    x = _probabilities(rng, (4, 3)) if kind == "prob" else rng.standard_normal((4, 3))
    target = _probabilities(rng, (4, 3))
    assert list(m.state_dict()) == list(t.state_dict())  # pos_weight is a buffer in both
    m.to(dtype=dtype)
    compare_module(m, t, [x, target], dtype, copy_weights=False)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_layer_with_class_indices(reduction, dtype, rng):
    x, target = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    compare_module(nn.CrossEntropyLoss(reduction=reduction),
                   torch.nn.CrossEntropyLoss(reduction=reduction), [x, target], dtype,
                   copy_weights=False)
    logp = np.log(rng.dirichlet(np.ones(4), size=6))
    compare_module(nn.NLLLoss(reduction=reduction), torch.nn.NLLLoss(reduction=reduction),
                   [logp, target], dtype, copy_weights=False)


def test_cross_entropy_layer_options(dtype, rng):
    x, target = rng.standard_normal((5, 4, 3)) * 100, rng.integers(0, 4, (5, 3))
    target[0, 0] = -1
    w = rng.uniform(0.5, 2, 4)
    m = nn.CrossEntropyLoss(weight=w.astype(dtype), ignore_index=-1, label_smoothing=0.1)
    t = torch.nn.CrossEntropyLoss(weight=torch.tensor(w.astype(dtype)), ignore_index=-1,
                                  label_smoothing=0.1)
    assert list(m.state_dict()) == ["weight"] == list(t.state_dict())
    compare_module(m, t, [x, target], dtype, copy_weights=False)
    probs = rng.dirichlet(np.ones(4), size=5).astype(dtype)  # a constant target
    m, t = nn.CrossEntropyLoss(label_smoothing=0.2), torch.nn.CrossEntropyLoss(label_smoothing=0.2)
    compare_module(m, t, [x[:, :, 0]], dtype, copy_weights=False,
                   call=lambda a: m(a, pdf.tensor(probs)),
                   torch_call=lambda a: t(a, torch.tensor(probs)))


def test_bad_arguments():
    x = pdf.zeros(2, 3)
    with pytest.raises(ValueError, match=r"mse_loss: target of shape \(4,\) does not match input "
                                         r"of shape \(2, 3\)"):
        F.mse_loss(x, pdf.zeros(4))  # (3,) would broadcast, with torch's warning
    with pytest.raises(ValueError, match="l1_loss: reduction must be one of"):
        F.l1_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input values must lie in "
                                         r"\[0, 1\]"):
        F.binary_cross_entropy(x + 2, x)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(x, x, beta=-1)
    with pytest.raises(TypeError, match="kl_div: input must be floating point"):
        F.kl_div(pdf.tensor(np.zeros(3, np.int64)), pdf.zeros(3))
    with pytest.raises(ValueError, match=r"one_hot: class values must lie in \[0, 3\)"):
        F.one_hot(pdf.tensor(np.array([0, 3])), 3)


def test_one_hot_matches_torch():
    idx = np.array([[0, 2], [1, 4]])
    np.testing.assert_array_equal(F.one_hot(pdf.tensor(idx)).numpy(),
                                  TF.one_hot(torch.tensor(idx)).numpy())
    assert F.one_hot(pdf.tensor(idx), 6).shape == (2, 2, 6)

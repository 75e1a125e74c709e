"""Compare a pydyfast layer with its PyTorch twin: same weights (copied from torch's state dict),
same inputs; outputs, input gradients and parameter gradients must agree.

Until the kernels-softmax-norm branch is merged, ``pydyfast.nn.functional`` lacks softmax,
log_softmax, layer_norm, rms_norm, cross_entropy and nll_loss; ``install_composite_fallbacks``
fills only the missing ones with plain Tensor compositions so the layers built on them
(MultiheadAttention, LayerNorm, the Transformer, CrossEntropyLoss) can be tested now.
``FALLBACKS`` names those installed, so tests of options only the real kernels have can skip.
"""
import numpy as np
import torch

import pydyfast as pdf
from pydyfast.nn import functional as F

from conftest import tolerances

FALLBACKS = set()


def _softmax(x, dim=-1, axis=None):
    d = dim if axis is None else axis
    return (x - x.logsumexp(axis=d, keepdims=True)).exp()


def _log_softmax(x, dim=-1, axis=None):
    d = dim if axis is None else axis
    return x - x.logsumexp(axis=d, keepdims=True)


def _layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(-len(tuple(normalized_shape)), 0))
    d = x - x.mean(axis=axes, keepdims=True)
    y = d / ((d * d).mean(axis=axes, keepdims=True) + eps).sqrt()
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def _rms_norm(x, normalized_shape, weight=None, eps=None):
    axes = tuple(range(-len(tuple(normalized_shape)), 0))
    eps = np.finfo(x.dtype).eps if eps is None else eps
    y = x / ((x * x).mean(axis=axes, keepdims=True) + eps).sqrt()
    return y if weight is None else y * weight


def _nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    picked = (input * F.one_hot(target, input.shape[1]).astype(input.dtype)).sum(axis=1)
    return -picked.mean() if reduction == "mean" else -picked.sum()


def _cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",  # noqa: A002
                   label_smoothing=0.0):
    return _nll_loss(_log_softmax(input, dim=1), target, reduction=reduction)


def install_composite_fallbacks():
    for name, fn in (("softmax", _softmax), ("log_softmax", _log_softmax),
                     ("layer_norm", _layer_norm), ("rms_norm", _rms_norm),
                     ("nll_loss", _nll_loss), ("cross_entropy", _cross_entropy)):
        if not hasattr(F, name):
            setattr(F, name, fn)
            FALLBACKS.add(name)


install_composite_fallbacks()


def copy_torch_weights(module, torch_module, dtype):
    """Load torch's state dict into ``module`` (keys must be identical) and cast both to dtype."""
    torch_module.to(torch.float64 if np.dtype(dtype) == np.float64 else torch.float32)
    state = {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}
    assert list(module.state_dict()) == list(state), "state_dict keys differ from torch's"
    module.load_state_dict(state)
    module.to(dtype=dtype)
    return module


def compare_module(module, torch_module, inputs, dtype, tol=None, copy_weights=True,
                   output_index=None, seed=1):
    """Run both layers on ``inputs`` (float arrays require grad; ints are indices) and compare
    the output, every input gradient and every parameter gradient. Returns pydyfast's output."""
    tol = tol or tolerances(dtype)
    if copy_weights:
        copy_torch_weights(module, torch_module, dtype)
    pd_in, th_in = [], []
    for a in inputs:
        a = np.asarray(a)
        floating = a.dtype.kind == "f"
        a = a.astype(dtype) if floating else a
        pd_in.append(pdf.Tensor(a, requires_grad=floating))
        th_in.append(torch.tensor(a, requires_grad=floating))
    out, ref = module(*pd_in), torch_module(*th_in)
    if output_index is not None:
        out, ref = out[output_index], ref[output_index]
    assert out.shape == tuple(ref.shape), f"shape {out.shape} != torch {tuple(ref.shape)}"
    assert out.dtype == np.dtype(dtype), f"output dtype {out.dtype} != {np.dtype(dtype)}"
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), err_msg="forward", **tol)
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(pdf.Tensor(g))
    ref.backward(torch.tensor(g))
    for i, (p, t) in enumerate(zip(pd_in, th_in)):
        if t.requires_grad:
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(),
                                       err_msg=f"grad of input {i}", **tol)
    torch_params = dict(torch_module.named_parameters())
    for name, p in module.named_parameters():
        t = torch_params[name]
        if t.grad is None:
            assert p.grad is None or not np.any(p.grad.numpy()), f"{name}: torch has no grad"
            continue
        assert p.grad is not None, f"parameter {name} got no gradient"
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), err_msg=f"grad of {name}",
                                   **tol)
    return out

"""Compare a pydyfast layer with its PyTorch twin: same weights (copied from torch's state dict),
same inputs; outputs, input gradients and parameter gradients must agree.
"""
import numpy as np
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf

from conftest import tolerances


def copy_torch_weights(module, torch_module, dtype):
    """Load torch's state dict into ``module`` (keys must be identical) and cast both to dtype."""
    torch_module.to(torch.float64 if np.dtype(dtype) == np.float64 else torch.float32)
    state = {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}
    assert list(module.state_dict()) == list(state), "state_dict keys differ from torch's"
    module.load_state_dict(state)
    module.to(dtype=dtype)
    return module


def compare_module(module, torch_module, inputs, dtype, tol=None, copy_weights=True,
                   output_index=None, seed=1, call=None, torch_call=None):
    """Run both layers on ``inputs`` (float arrays require grad; ints are indices) and compare
    the output (item ``output_index`` of a tuple), every input gradient and every parameter
    gradient. ``call``/``torch_call`` replace ``module(*inputs)`` to pass extra arguments.
    Returns pydyfast's output."""
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
    out, ref = (call or module)(*pd_in), (torch_call or torch_module)(*th_in)
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

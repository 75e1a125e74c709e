"""Compare a pydyfast function with its PyTorch counterpart, forward and backward."""
import numpy as np
import torch

import pydyfast as pdf

from conftest import tolerances


def compare_with_torch(pd_fn, torch_fn, arrays, dtype, grad=True, tol=None, seed=1):
    """Run both functions on the same inputs (float arrays require grad) and compare the
    outputs (values, shape, dtype) and, with ``grad``, every input gradient for the same random
    upstream gradient. Returns the pydyfast output."""
    tol = tol or tolerances(dtype)
    pd_in, th_in = [], []
    for a in arrays:
        a = np.asarray(a)
        floating = a.dtype.kind == "f"
        a = a.astype(dtype) if floating else a
        pd_in.append(pdf.Tensor(a, requires_grad=grad and floating))
        th_in.append(torch.tensor(a, requires_grad=grad and floating))
    out = pd_fn(*pd_in)
    ref = torch_fn(*th_in)
    ref_np = ref.detach().numpy()
    assert out.shape == tuple(ref.shape), f"shape {out.shape} != torch {tuple(ref.shape)}"
    assert out.dtype == ref_np.dtype, f"dtype {out.dtype} != torch {ref_np.dtype}"
    np.testing.assert_allclose(out.numpy(), ref_np, err_msg="forward", **tol)
    if grad:
        g = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
        out.backward(pdf.Tensor(g))
        ref.backward(torch.tensor(g))
        for i, (p, t) in enumerate(zip(pd_in, th_in)):
            if not t.requires_grad:
                continue
            assert p.grad is not None, f"input {i} got no gradient"
            assert p.grad.dtype == p.dtype, f"input {i}: grad dtype {p.grad.dtype} != {p.dtype}"
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), err_msg=f"grad of input {i}",
                                       **tol)
    return out

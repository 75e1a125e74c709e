"""PyTorch as the oracle: run a pydyfast function and its torch counterpart on the same inputs and
compare every output (shape, dtype, values) and every input gradient.

This is the one place where torch-comparison boilerplate lives. ``compare_with_torch`` compares two
callables; ``tests/op_table.py`` builds on it so that an op's test is one row of a table.
"""
import numpy as np
import pytest

import pydyfast as pdf

from conftest import tolerances

torch = pytest.importorskip("torch", reason="PyTorch (the test oracle) is not installed")


def _as_list(out):
    """An op's result as a flat list: a Tensor, or the members of a tuple/named tuple/list."""
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    if isinstance(t, pdf.Tensor):
        return t.numpy()
    return np.asarray(t)


def compare_outputs(out, ref, tol, what="forward", values=True):
    """Compare pydyfast outputs with torch's: count, shape, dtype and (with ``values``; random
    samples differ) values, NaN equal to NaN."""
    outs, refs = _as_list(out), _as_list(ref)
    assert len(outs) == len(refs), f"{what}: {len(outs)} outputs, torch gives {len(refs)}"
    for i, (o, r) in enumerate(zip(outs, refs)):
        r_np = _to_numpy(r)
        assert isinstance(o, pdf.Tensor) == isinstance(r, torch.Tensor), \
            f"{what}: output {i} is {type(o).__name__}, torch gives {type(r).__name__}"
        o_np = _to_numpy(o)
        assert o_np.shape == r_np.shape, f"{what}: output {i} shape {o_np.shape} != torch {r_np.shape}"
        assert o_np.dtype == r_np.dtype, f"{what}: output {i} dtype {o_np.dtype} != torch {r_np.dtype}"
        if not values:
            continue
        if o_np.dtype.kind in "fc":
            np.testing.assert_allclose(o_np, r_np, equal_nan=True, err_msg=f"{what}, output {i}",
                                       **tol)
        else:
            np.testing.assert_array_equal(o_np, r_np, err_msg=f"{what}, output {i}")


def _weighted_sum(outs, upstream, lib):
    """sum_i (out_i * g_i).sum() over the floating outputs: one scalar whose gradient sends the
    upstream gradients g_i into every output at once."""
    total = None
    for o, g in zip(outs, upstream):
        if g is None:
            continue
        term = (o * lib.tensor(g)).sum()
        total = term if total is None else total + term
    return total


def compare_with_torch(pd_fn, torch_fn, arrays, dtype, grad=True, tol=None, seed=1,
                       requires_grad=None):
    """Run both functions on the same inputs and compare outputs and input gradients.

    ``arrays``: the positional inputs; floating ones are cast to ``dtype`` and (with ``grad``)
    require grad, other dtypes are passed unchanged. ``requires_grad``: one bool per input, to
    override which inputs require grad. The same random upstream gradient is sent into every
    floating output of both. Returns the pydyfast output.
    """
    tol = tol or tolerances(dtype)
    pd_in, th_in = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        floating = a.dtype.kind == "f"
        a = a.astype(dtype) if floating else a
        needs = grad and floating if requires_grad is None else requires_grad[i]
        pd_in.append(pdf.Tensor(a, requires_grad=needs))
        th_in.append(torch.tensor(a.copy(), requires_grad=needs))
    out = pd_fn(*pd_in)
    ref = torch_fn(*th_in)
    compare_outputs(out, ref, tol)
    if not grad or not any(t.requires_grad for t in th_in):
        return out
    rng = np.random.default_rng(seed)
    refs = _as_list(ref)
    upstream = [rng.standard_normal(tuple(r.shape)).astype(_to_numpy(r).dtype)
                if r.dtype.is_floating_point and r.requires_grad else None for r in refs]
    th_loss = _weighted_sum(refs, upstream, torch)
    pd_loss = _weighted_sum(_as_list(out), upstream, pdf)
    th_loss.backward()
    pd_loss.backward()
    for i, (p, t) in enumerate(zip(pd_in, th_in)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert p.grad is None or not np.any(p.grad.numpy()), \
                f"input {i}: torch gives no gradient, pydyfast gives a nonzero one"
            continue
        assert p.grad is not None, f"input {i} got no gradient (torch gives one)"
        assert p.grad.dtype == p.dtype, f"input {i}: grad dtype {p.grad.dtype} != {p.dtype}"
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), equal_nan=True,
                                   err_msg=f"grad of input {i}", **tol)
    return out

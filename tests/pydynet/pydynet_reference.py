"""Run the same call on pydyfast.pydynet and on PyDyNet 1.1 and compare values and gradients."""
import warnings

import numpy as np
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast.pydynet as pdf

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # PyDyNet 1.1 warns on import when cupy is missing
    import pydynet as pdn
    import pydynet.data  # noqa: F401  (PyDyNet's package does not import its subpackages)
    import pydynet.nn.functional  # noqa: F401
    import pydynet.optim  # noqa: F401
    from pydynet.core.tensor import Graph as _PyDyNetGraph


def reset_pydynet():
    """PyDyNet keeps global state: one list of every graph node, and the grad mode that its
    Module.eval() switches off. Start from an empty graph with gradients on."""
    _PyDyNetGraph.node_list.clear()
    _PyDyNetGraph.size = 0
    pdn.autograd.set_grad_enabled(True)


def array(x):
    """The ndarray behind a result of either framework (PyDyNet's grads are ndarrays)."""
    while not isinstance(x, (np.ndarray, np.generic)):
        x = x.data
    return np.asarray(x)


def _weights(shape):
    """Fixed, distinct weights per output element: gradients are those of sum(out * weights)."""
    size = int(np.prod(shape, dtype=np.int64))
    return np.linspace(-1, 1, size).reshape(tuple(shape))


def run(fw, fn, *inputs, grad=True):
    """``fn(fw, *tensors)`` with the inputs of floating dtype requiring grad (when ``grad``).
    Returns (output arrays, input gradients)."""
    if fw is pdn:
        reset_pydynet()
    tensors = [fw.Tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in inputs]
    out = fn(fw, *tensors)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    total = None
    for o in outs:
        if o.requires_grad:
            term = (o * fw.Tensor(_weights(o.shape).astype(o.data.dtype))).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    return [array(o) for o in outs], [None if t.grad is None else array(t.grad) for t in tensors]


def run_torch(fn, *inputs):
    """``fn(torch, *tensors)`` in float64 (floating inputs require grad): the reference where
    PyDyNet 1.1's own result is wrong. Returns (output array, input gradients)."""
    tensors = [torch.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a,
                            requires_grad=a.dtype.kind == "f") for a in inputs]
    out = fn(torch, *tensors)
    (out * torch.tensor(_weights(out.shape))).sum().backward()
    return out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in tensors]


def torch_grads(fn, *inputs):
    return run_torch(fn, *inputs)[1]


def assert_like_torch(fn, torch_fn, *inputs, rtol=1e-4, atol=1e-5):
    """pydyfast.pydynet's values and gradients equal torch's (where PyDyNet 1.1 is wrong)."""
    (out,), grads = run(pdf, fn, *inputs)
    ref_out, ref_grads = run_torch(torch_fn, *inputs)
    np.testing.assert_allclose(out, ref_out, rtol=rtol, atol=atol)
    for g, r in zip(grads, ref_grads):
        assert (g is None) == (r is None)
        if g is not None:
            np.testing.assert_allclose(g, r, rtol=rtol, atol=atol)


def assert_same(fn, *inputs, grad=True, rtol=1e-5, atol=1e-6, check_dtype=True, torch_fn=None):
    """Values and dtypes as PyDyNet's; gradients as PyDyNet's, or as torch's when ``torch_fn``
    (the same computation on torch) is given."""
    outs, grads = run(pdf, fn, *inputs, grad=grad)
    ref_outs, ref_grads = run(pdn, fn, *inputs, grad=grad and torch_fn is None)
    if grad and torch_fn is not None:
        ref_grads = torch_grads(torch_fn, *inputs)
    assert len(outs) == len(ref_outs)
    for o, r in zip(outs, ref_outs):
        assert o.shape == r.shape, f"shape {o.shape} != PyDyNet's {r.shape}"
        if check_dtype:
            assert o.dtype == r.dtype, f"dtype {o.dtype} != PyDyNet's {r.dtype}"
        np.testing.assert_allclose(o, r, rtol=rtol, atol=atol, equal_nan=True)
    if grad:
        for g, r in zip(grads, ref_grads):
            assert (g is None) == (r is None), f"gradient {g} where the reference has {r}"
            if g is not None:
                np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, equal_nan=True)

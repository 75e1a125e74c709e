"""Tensor.register_hook and register_post_accumulate_grad_hook against torch."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf

from conftest import tolerances


def _run_both(build, dtype, seed=0):
    """Run ``build(lib, x, w, log)`` on pydyfast and torch with the same leaves and return
    (pydyfast leaves, torch leaves, pydyfast log, torch log); ``log`` collects hook calls."""
    rng = np.random.default_rng(seed)
    x0, w0 = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)
    results = []
    for lib in (pdf, torch):
        x = lib.tensor(x0, requires_grad=True)
        w = lib.tensor(w0, requires_grad=True)
        log = []
        build(lib, x, w, log)
        results.append((x, w, log))
    return results


def _np(a):
    return a.detach().numpy() if isinstance(a, torch.Tensor) else a.numpy()


def _check(results, dtype):
    (px, pw, plog), (tx, tw, tlog) = results
    tol = tolerances(dtype)
    for p, t in ((px, tx), (pw, tw)):
        if t.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), **tol)
    assert len(plog) == len(tlog), (len(plog), len(tlog))
    for (pname, pval), (tname, tval) in zip(plog, tlog):
        assert pname == tname
        np.testing.assert_allclose(_np(pval), _np(tval), **tol)


def test_leaf_hook_sees_summed_gradient_once_and_replaces_it(dtype):
    """A leaf used twice: its hook runs once with the total, and its result is accumulated."""
    def build(lib, x, w, log):
        x.register_hook(lambda g: log.append(("x", g.clone())) or g * 3)
        w.register_hook(lambda g: log.append(("w", g.clone())))
        ((x * w).sum() + (x * x).sum() + w.sum()).backward()
    _check(_run_both(build, dtype), dtype)


def test_nonleaf_hook_replaces_gradient_flowing_back(dtype):
    def build(lib, x, w, log):
        y = x * w
        y.register_hook(lambda g: log.append(("y", g.clone())) or g * 2)
        z = lib.tanh(y)
        z.register_hook(lambda g: log.append(("z", g.clone())))
        (z * z).sum().backward()
    _check(_run_both(build, dtype), dtype)


def test_hooks_run_in_registration_order_and_chain(dtype):
    def build(lib, x, w, log):
        x.register_hook(lambda g: g + 1)
        x.register_hook(lambda g: log.append(("x", g.clone())) or g * 2)
        (x * w).sum().backward()
    _check(_run_both(build, dtype), dtype)


def test_remove_handle_and_retain_grad_sees_hooked_value(dtype):
    def build(lib, x, w, log):
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        handle = x.register_hook(lambda g: log.append(("never", g)))
        handle.remove()
        handle.remove()  # idempotent
        (y * w).sum().backward()
        log.append(("y.grad", y.grad))
    _check(_run_both(build, dtype), dtype)


def test_post_accumulate_grad_hook_sees_updated_grad_once(dtype):
    def build(lib, x, w, log):
        w.grad = lib.ones_like(w)  # accumulates onto an existing gradient
        w.register_post_accumulate_grad_hook(lambda t: log.append(("w", t.grad.clone())))
        x.register_post_accumulate_grad_hook(lambda t: log.append(("x", t.grad.clone())))
        ((x * w).sum() + (w * w).sum()).backward()
    _check(_run_both(build, dtype), dtype)


def test_hooks_on_a_leaf_root_and_an_unreached_leaf(dtype):
    def build(lib, x, w, log):
        x.register_hook(lambda g: log.append(("x", g.clone())) or g * 4)
        w.register_post_accumulate_grad_hook(lambda t: log.append(("w", t.grad)))
        x.backward(lib.ones_like(x))
    _check(_run_both(build, dtype), dtype)


def test_hook_on_multi_output_node_output():
    """A hook on one output of a multi-output op (split) only touches that output's gradient."""
    x = pdf.tensor(np.arange(6.0), requires_grad=True)
    a, b = pdf.split(x, 3)  # torch: pieces of 3
    b.register_hook(lambda g: g * 5)
    (a.sum() + b.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 1, 5, 5, 5])


def test_no_hooks_leave_gradients_unchanged_after_removal():
    x = pdf.tensor(np.ones(3), requires_grad=True)
    x.register_hook(lambda g: g * 7).remove()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])


def test_bad_hooks_raise_clear_errors():
    x = pdf.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        pdf.tensor(np.ones(3)).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)
    x.register_hook(lambda g: pdf.tensor(np.ones(4)))
    with pytest.raises(RuntimeError, match=r"shape \(4,\).*expected shape \(3,\)"):
        (x * 2).sum().backward()

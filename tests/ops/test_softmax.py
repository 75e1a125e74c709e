"""softmax, log_softmax, cross_entropy and nll_loss against PyTorch, forward and backward, both
dtypes, both kernel paths (the compiled kernels and the NumPy references: the ``kernels``
fixture in tests/conftest.py)."""
import numpy as np
import pytest

import pydyfast
import pydyfast.functional as F
from pydyfast.testing import gradcheck

from oracle import compare_with_torch, torch


def run(fn, x, *args, grad_seed=1, **kwargs):
    """Output and input gradient of ``fn`` for a random upstream gradient (pydyfast only)."""
    t = pydyfast.tensor(x, requires_grad=True)
    y = fn(t, *args, **kwargs)
    g = np.random.default_rng(grad_seed).standard_normal(y.shape).astype(x.dtype)
    (y * pydyfast.tensor(g)).sum().backward()
    return y.numpy(), t.grad.numpy(), g


SHAPES_AND_DIMS = [((7, 13), -1), ((1, 1), -1), ((3, 1), 0), ((2, 5, 9), 1), ((2, 3, 4, 5), 0),
                   ((11,), 0), ((4, 1030), -1), ((2, 3, 257), -1)]


@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_matches_torch(name, shape, dim, dtype, kernels, tol, rng):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    compare_with_torch(lambda t: getattr(F, name)(t, dim=dim),
                       lambda t: getattr(torch, name)(t, dim=dim), [x], dtype, tol=tol)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_non_contiguous_input(name, dtype, kernels, tol, rng):
    base = rng.standard_normal((9, 6)).astype(dtype)

    def strided(t):  # (6, 5), neither C- nor F-contiguous
        view = t.T[:, ::2]
        if isinstance(view, pydyfast.Tensor):
            assert not view.data.flags.c_contiguous
        return view
    compare_with_torch(lambda t: getattr(F, name)(strided(t), dim=-1),
                       lambda t: getattr(torch, name)(strided(t), dim=-1), [base], dtype, tol=tol)


def test_softmax_axis_keyword_and_tensor_methods(dtype, kernels, rng):
    x = pydyfast.tensor(rng.standard_normal((3, 4)).astype(dtype))
    expected = torch.softmax(torch.tensor(x.numpy()), 0).numpy()
    np.testing.assert_allclose(F.softmax(x, 0).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(F.softmax(x, axis=0).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(x.softmax(0).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(x.log_softmax(-1).numpy(),
                               torch.log_softmax(torch.tensor(x.numpy()), -1).numpy(), rtol=1e-5)


def test_softmax_large_inputs_stay_finite(dtype, kernels):
    # per-row max: rows of very different scale (the original PyDyNet used a global max)
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1, -1e4 + 2]], dtype)
    y, gx, _ = run(F.softmax, x, dim=-1)
    ly, lgx, _ = run(F.log_softmax, x, dim=-1)
    assert np.isfinite(y).all() and np.isfinite(gx).all()
    assert np.isfinite(ly).all() and np.isfinite(lgx).all()
    np.testing.assert_allclose(y, torch.softmax(torch.tensor(x), -1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(ly, torch.log_softmax(torch.tensor(x), -1).numpy(), rtol=1e-5)


def test_fully_masked_rows_give_zero_probability(dtype, kernels):
    inf = np.inf
    x = np.array([[-inf, -inf, -inf], [0.0, -inf, 1.0]], dtype)
    y, gx, _ = run(F.softmax, x, dim=-1)
    np.testing.assert_array_equal(y[0], 0)
    np.testing.assert_array_equal(gx[0], 0)
    np.testing.assert_allclose(y[1], torch.softmax(torch.tensor(x[1]), -1).numpy(), rtol=1e-6)
    ly, lgx, _ = run(F.log_softmax, x, dim=-1)
    assert np.isneginf(ly[0]).all() and not np.isnan(lgx).any()


def test_softmax_gradcheck(kernels, rng):
    x = pydyfast.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    assert gradcheck(lambda t: F.softmax(t, dim=0), [x])
    assert gradcheck(lambda t: F.log_softmax(t, dim=-1), [x])


def test_softmax_bad_inputs():
    with pytest.raises(IndexError, match="softmax: axis 2 is out of range"):
        F.softmax(pydyfast.tensor(np.ones((2, 2), np.float32)), dim=2)
    with pytest.raises(TypeError, match="log_softmax: expected a floating-point input"):
        F.log_softmax(pydyfast.tensor(np.ones((2, 2), np.int64)), dim=0)
    with pytest.raises(TypeError, match="softmax: pass either axis= or dim="):
        F.softmax(pydyfast.tensor(np.ones((2, 2), np.float32)), 0, dim=1)


# ----------------------------------------------------------------------------- cross-entropy
def ce_case(rng, dtype, shape, ignore=(), weighted=False):
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    classes = shape[1] if len(shape) > 1 else shape[0]
    target_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
    target = rng.integers(0, classes, size=target_shape).astype(np.int64)
    for index in ignore:
        target.reshape(-1)[index] = -100
    weight = rng.uniform(0.5, 2.0, classes).astype(dtype) if weighted else None
    return x, target, weight


CE_SHAPES = [(6, 5), (1, 3), (2, 4, 3), (2, 3, 2, 2), (7,), (5, 1)]


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_torch(shape, reduction, weighted, smoothing, dtype, kernels, tol,
                                     rng):
    ignore = (1,) if shape[0] > 2 and len(shape) > 1 else ()
    x, target, weight = ce_case(rng, dtype, shape, ignore, weighted)
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)

    def ours(t):
        w = None if weight is None else pydyfast.tensor(weight)
        return F.cross_entropy(t, pydyfast.tensor(target), weight=w, **kwargs)

    def theirs(t):
        w = None if weight is None else torch.tensor(weight)
        return torch.nn.functional.cross_entropy(t, torch.tensor(target), weight=w, **kwargs)

    compare_with_torch(ours, theirs, [x], dtype, tol=tol)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cross_entropy_probability_targets(smoothing, weighted, dtype, kernels, tol, rng):
    x = rng.standard_normal((4, 5, 3)).astype(dtype)
    probs = rng.uniform(size=x.shape).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    weight = rng.uniform(0.5, 2, 5).astype(dtype) if weighted else None
    for reduction in ("mean", "sum", "none"):
        def ours(t):
            w = None if weight is None else pydyfast.tensor(weight)
            return F.cross_entropy(t, pydyfast.tensor(probs), weight=w, reduction=reduction,
                                   label_smoothing=smoothing)

        def theirs(t):
            w = None if weight is None else torch.tensor(weight)
            return torch.nn.functional.cross_entropy(t, torch.tensor(probs), weight=w,
                                                     reduction=reduction,
                                                     label_smoothing=smoothing)

        compare_with_torch(ours, theirs, [x], dtype, tol=tol)


def test_cross_entropy_custom_ignore_index_and_int32_target(dtype, kernels, tol, rng):
    x = rng.standard_normal((5, 4)).astype(dtype)
    target = np.array([0, 3, 7, 2, 7], np.int32)  # 7 is the ignored label
    compare_with_torch(lambda t: F.cross_entropy(t, target, ignore_index=7),
                       lambda t: torch.nn.functional.cross_entropy(
                           t, torch.tensor(target, dtype=torch.int64), ignore_index=7),
                       [x], dtype, tol=tol)
    _, gx, _ = run(lambda t: F.cross_entropy(t, target, ignore_index=7), x)
    np.testing.assert_array_equal(gx[[2, 4]], 0)


def test_cross_entropy_gradcheck(kernels, rng):
    x, target, weight = ce_case(rng, np.float64, (4, 3, 2), ignore=(2,), weighted=True)
    t = pydyfast.tensor(x, requires_grad=True)
    assert gradcheck(lambda v: F.cross_entropy(v, target, weight=weight, label_smoothing=0.1),
                     [t])


def test_cross_entropy_is_stable_for_huge_logits(dtype, kernels):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype)
    y, gx, _ = run(lambda t: F.cross_entropy(t, np.array([1, 0])), x)
    assert np.isfinite(y).all() and np.isfinite(gx).all()
    expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor([1, 0]))
    np.testing.assert_allclose(y, expected.numpy(), rtol=1e-6)


def test_cross_entropy_bad_inputs():
    x = pydyfast.tensor(np.zeros((3, 4), np.float32))
    with pytest.raises(IndexError, match="cross_entropy: target value 4 is out of range for 4"):
        F.cross_entropy(x, np.array([0, 4, 1]))
    with pytest.raises(IndexError, match="target value -1 is out of range"):
        F.cross_entropy(x, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\) does not match input \(3, 4\)"):
        F.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(TypeError, match="target of dtype bool: expected integer class indices"):
        F.cross_entropy(x, np.array([True, False, True]))
    with pytest.raises(ValueError, match=r"probability target of shape \(3, 5\) must match"):
        F.cross_entropy(x, np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) must have one entry per class"):
        F.cross_entropy(x, np.array([0, 1, 2]), weight=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="reduction='avg' is not one of"):
        F.cross_entropy(x, np.array([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing=1.5 must be in"):
        F.cross_entropy(x, np.array([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="expected logits of shape"):
        pydyfast.backend._C.cross_entropy_fwd(np.zeros(3, np.float32), np.zeros(3, np.int64),
                                              None, -100, False)


# ----------------------------------------------------------------------------- nll_loss
@pytest.mark.parametrize("shape", [(6, 5), (2, 4, 3), (7,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_nll_loss_matches_torch(shape, reduction, weighted, dtype, kernels, tol, rng):
    ignore = (1,) if len(shape) > 1 else ()
    x, target, weight = ce_case(rng, dtype, shape, ignore, weighted)

    def ours(t):
        w = None if weight is None else pydyfast.tensor(weight)
        return F.nll_loss(F.log_softmax(t, dim=1 if t.ndim > 1 else 0), pydyfast.tensor(target),
                          weight=w, reduction=reduction)

    def theirs(t):
        w = None if weight is None else torch.tensor(weight)
        return torch.nn.functional.nll_loss(torch.log_softmax(t, 1 if t.ndim > 1 else 0),
                                            torch.tensor(target), weight=w, reduction=reduction)

    compare_with_torch(ours, theirs, [x], dtype, tol=tol)


def test_nll_loss_bad_inputs():
    x = pydyfast.tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(IndexError, match="nll_loss: target value 3 is out of range for 3"):
        F.nll_loss(x, np.array([3, 0]))
    with pytest.raises(TypeError, match="nll_loss: target of dtype float32: expected integer"):
        F.nll_loss(x, np.zeros((2, 3), np.float32))

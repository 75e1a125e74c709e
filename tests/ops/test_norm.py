"""layer_norm and rms_norm against PyTorch and the NumPy reference: forward, and the gradients
of input, weight and bias, both dtypes, both kernel paths (fixtures in tests/conftest.py)."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast
import pydyfast.functional as F
from pydyfast import backend
from pydyfast.testing import gradcheck

CASES = [((4, 7), (7,)), ((2, 3, 8), (8,)), ((2, 3, 4, 5), (4, 5)), ((1, 1), (1,)),
         ((5,), (5,)), ((3, 513), (513,)), ((40, 64), (64,))]


def run(fn, x, weight, bias, *args, **kwargs):
    """Output and gradients (input, weight, bias) of ``fn`` for a random upstream gradient."""
    tensors = [pydyfast.tensor(a, requires_grad=True) if a is not None else None
               for a in (x, weight, bias)]
    y = fn(*tensors, *args, **kwargs)
    g = np.random.default_rng(2).standard_normal(y.shape).astype(x.dtype)
    (y * pydyfast.tensor(g)).sum().backward()
    grads = [None if t is None else t.grad.numpy() for t in tensors]
    return y.numpy(), grads, g


def run_torch(fn, x, weight, bias, g, *args, **kwargs):
    tensors = [torch.tensor(a, requires_grad=True) if a is not None else None
               for a in (x, weight, bias)]
    y = fn(*tensors, *args, **kwargs)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), [None if t is None else t.grad.numpy() for t in tensors]


def assert_all_close(actual, expected, tol):
    np.testing.assert_allclose(actual[0], expected[0], **tol)
    for a, e in zip(actual[1], expected[1]):
        assert (a is None) == (e is None)
        if a is not None:
            np.testing.assert_allclose(a, e, **tol)


def check(fn, torch_fn, x, weight, bias, tol, *args, **kwargs):
    y, grads, g = run(fn, x, weight, bias, *args, **kwargs)
    assert y.dtype == x.dtype and all(gr is None or gr.dtype == x.dtype for gr in grads)
    assert_all_close((y, grads), run_torch(torch_fn, x, weight, bias, g, *args, **kwargs), tol)
    previous = backend.get_kernels()
    backend.set_kernels("numpy")
    try:
        reference = run(fn, x, weight, bias, *args, **kwargs)[:2]
    finally:
        backend.set_kernels(previous)
    assert_all_close((y, grads), reference, tol)


def layer_norm_args(rng, dtype, shape, normalized, affine):
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    weight = rng.standard_normal(normalized).astype(dtype) if affine in ("weight", "both") else None
    bias = rng.standard_normal(normalized).astype(dtype) if affine in ("bias", "both") else None
    return x, weight, bias


@pytest.mark.parametrize("shape,normalized", CASES)
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm_matches_torch(shape, normalized, affine, dtype, kernels, tol, rng):
    x, weight, bias = layer_norm_args(rng, dtype, shape, normalized, affine)

    def ours(t, w, b):
        return F.layer_norm(t, normalized, weight=w, bias=b, eps=1e-5)

    def theirs(t, w, b):
        return torch.nn.functional.layer_norm(t, normalized, weight=w, bias=b, eps=1e-5)

    check(ours, theirs, x, weight, bias, tol)


@pytest.mark.parametrize("shape,normalized", CASES)
@pytest.mark.parametrize("with_weight", [True, False], ids=["weight", "no_weight"])
@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rms_norm_matches_torch(shape, normalized, with_weight, eps, dtype, kernels, tol, rng):
    x, weight, _ = layer_norm_args(rng, dtype, shape, normalized,
                                   "weight" if with_weight else "none")

    def ours(t, w, b):
        return F.rms_norm(t, normalized, weight=w, eps=eps)

    def theirs(t, w, b):
        return torch.nn.functional.rms_norm(t, normalized, weight=w, eps=eps)

    check(ours, theirs, x, weight, None, tol)


@pytest.mark.parametrize("name", ["layer_norm", "rms_norm"])
def test_norm_non_contiguous_input(name, dtype, kernels, tol, rng):
    x = rng.standard_normal((6, 10)).astype(dtype).T[::2]  # (5, 6), not C-contiguous
    assert not x.flags.c_contiguous
    weight = rng.standard_normal(6).astype(dtype)

    def ours(t, w, b):
        return getattr(F, name)(t, (6,), weight=w)

    def theirs(t, w, b):
        return getattr(torch.nn.functional, name)(t, (6,), weight=w)

    check(ours, theirs, x, weight, None, tol)


def test_layer_norm_constant_rows_and_large_offsets(dtype, kernels):
    # constant rows (variance 0) must give 0, not nan; a large offset must not cost precision
    x = np.array([[3.0, 3.0, 3.0, 3.0], [1e4 + 1, 1e4 + 2, 1e4 + 3, 1e4 + 4]], dtype)
    y, grads, g = run(lambda t, w, b: F.layer_norm(t, 4), x, None, None)
    ty, tgrads = run_torch(lambda t, w, b: torch.nn.functional.layer_norm(t, (4,)), x, None, None,
                           g)
    np.testing.assert_array_equal(y[0], 0)
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-4)
    assert np.isfinite(grads[0]).all()


def test_norm_gradcheck(kernels, rng):
    x = pydyfast.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    w = pydyfast.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = pydyfast.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    assert gradcheck(lambda t, w, b: F.layer_norm(t, (2, 4), w, b), [x, w, b])
    assert gradcheck(lambda t, w: F.rms_norm(t, (2, 4), w, eps=1e-6), [x, w])


def test_norm_weight_only_needs_grad(dtype, kernels, rng):
    # frozen input: only the weight and bias gradients are asked for
    x = pydyfast.tensor(rng.standard_normal((4, 3)).astype(dtype))
    w = pydyfast.tensor(np.ones(3, dtype), requires_grad=True)
    b = pydyfast.tensor(np.zeros(3, dtype), requires_grad=True)
    F.layer_norm(x, 3, w, b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), np.full(3, 4.0), rtol=1e-6)
    assert x.grad is None and w.grad is not None


def test_norm_bad_inputs():
    x = pydyfast.tensor(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) must equal the "
                                         r"trailing dimensions of the input of shape \(2, 3, 4\)"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"rms_norm: normalized_shape \(5, 2, 3, 4\) must equal"):
        F.rms_norm(x, (5, 2, 3, 4))
    with pytest.raises(ValueError, match=r"layer_norm: weight of shape \(3,\) must have the "
                                         r"normalized_shape \(4,\)"):
        F.layer_norm(x, 4, weight=pydyfast.tensor(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match=r"layer_norm: bias of shape \(3, 4\) must have"):
        F.layer_norm(x, 4, bias=pydyfast.tensor(np.ones((3, 4), np.float32)))
    with pytest.raises(TypeError, match="rms_norm: weight has dtype float64 but the input has "
                                        "float32"):
        F.rms_norm(x, 4, weight=pydyfast.tensor(np.ones(4, np.float64)))
    with pytest.raises(TypeError, match="layer_norm: expected a floating-point input"):
        F.layer_norm(pydyfast.tensor(np.zeros((2, 4), np.int64)), 4)
    with pytest.raises(ValueError, match=r"layer_norm_bwd: gradient \(2, 5\) does not match"):
        backend._C.layer_norm_bwd(np.zeros((2, 5), np.float32), np.zeros((2, 4), np.float32),
                                  np.zeros(2, np.float32), np.ones(2, np.float32), None, False,
                                  False)

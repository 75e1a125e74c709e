"""Float64 finite differences through pydyfast.testing.gradcheck, and hypothesis properties."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import pydyfast as pdf
import pydyfast.functional as F
from pydyfast.testing import gradcheck


def _leaf(rng, shape, positive=False):
    data = rng.uniform(0.5, 2, shape) if positive else rng.standard_normal(shape)
    return pdf.Tensor(data, dtype=np.float64, requires_grad=True)


@pytest.mark.parametrize("fn,positive", [
    (lambda a, b: (a * b + a / b) ** 2, True),
    (lambda a, b: F.logsumexp(a @ b.T, axis=1), False),
    (lambda a, b: F.var(a, axis=0) * F.max(b, axis=0), False),
    (lambda a, b: F.where(a > 0, a.tanh(), b.sigmoid()) + F.maximum(a, b), False),
    (lambda a, b: F.cat([a, b], axis=0)[1:5, ::2].sum(axis=1), False),
])
def test_gradcheck_composites(fn, positive, rng):
    a, b = _leaf(rng, (3, 4), positive), _leaf(rng, (3, 4), positive)
    assert gradcheck(fn, [a, b])


def test_gradcheck_catches_a_wrong_gradient(rng):
    class BadSquare(pdf.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return gy * x  # should be 2x

    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda t: BadSquare.apply(t), [_leaf(rng, (3,))])
    assert gradcheck(lambda t: BadSquare.apply(t), [_leaf(rng, (3,))], raise_exception=False) is False


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [pdf.ones(2, requires_grad=True)])


broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3)


@settings(max_examples=60, deadline=None)
@given(shapes=broadcastable, op=st.sampled_from(["add", "sub", "mul", "div"]))
def test_broadcast_gradients_sum_over_broadcast_axes(shapes, op):
    """d/da sum(a op b) equals the broadcast-then-reduce of the elementwise derivative."""
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(1)
    a_np, b_np = rng.uniform(0.5, 2, sa), rng.uniform(0.5, 2, sb)
    a = pdf.Tensor(a_np, requires_grad=True)
    b = pdf.Tensor(b_np, requires_grad=True)
    getattr(F, op)(a, b).sum().backward()
    A, B = np.broadcast_to(a_np, out_shape), np.broadcast_to(b_np, out_shape)
    da, db = {"add": (1 + 0 * A, 1 + 0 * B), "sub": (1 + 0 * A, -1 + 0 * B),
              "mul": (B, A), "div": (1 / B, -A / B ** 2)}[op]

    def reduce_to(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
        return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True).reshape(shape)
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad.numpy(), reduce_to(da, sa), rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), reduce_to(db, sb), rtol=1e-10)

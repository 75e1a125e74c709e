import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from oracle import compare_with_torch

# (name, pydyfast fn, torch fn, input shapes, input domain)
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / b, lambda a, b: a / b),
    ("pow", lambda a, b: a ** b, lambda a, b: a ** b),
    ("maximum", F.maximum, torch.maximum),
    ("minimum", F.minimum, torch.minimum),
]
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (5,)), ((1,), ()),
          ((0, 3), (3,)), ((2, 3, 1), (1, 1, 5))]


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


@pytest.mark.parametrize("name,fn,tfn", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_binary_matches_torch(name, fn, tfn, shapes, dtype, rng):
    a = _positive(rng, shapes[0]) if name in ("pow", "div") else rng.standard_normal(shapes[0])
    b = _positive(rng, shapes[1]) if name in ("pow", "div") else rng.standard_normal(shapes[1])
    compare_with_torch(fn, tfn, [a, b], dtype)


UNARY = [
    ("neg", F.neg, torch.neg, None), ("abs", F.abs, torch.abs, None),
    ("exp", F.exp, torch.exp, None), ("log", F.log, torch.log, "pos"),
    ("sqrt", F.sqrt, torch.sqrt, "pos"), ("square", F.square, torch.square, None),
    ("sin", F.sin, torch.sin, None), ("cos", F.cos, torch.cos, None),
    ("tanh", F.tanh, torch.tanh, None), ("sigmoid", F.sigmoid, torch.sigmoid, None),
    ("relu", F.relu, torch.relu, None),
    ("clip", lambda x: F.clip(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), None),
    ("clip_min", lambda x: F.clip(x, min=0.1), lambda x: torch.clamp(x, min=0.1), None),
    ("pow_scalar", lambda x: x ** 3, lambda x: x ** 3, None),
    ("pow_half", lambda x: x ** 0.5, lambda x: x ** 0.5, "pos"),
    ("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, None),
    ("scalar_ops", lambda x: (3 - x) * 2 / (x * x + 1) + 1,
     lambda x: (3 - x) * 2 / (x * x + 1) + 1, None),
]


@pytest.mark.parametrize("name,fn,tfn,domain", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("shape", [(4, 5), (), (1,), (0,), (2, 1, 3)], ids=str)
def test_unary_matches_torch(name, fn, tfn, domain, shape, dtype, rng):
    x = rng.uniform(0.1, 3.0, shape) if domain == "pos" else rng.standard_normal(shape) * 2
    compare_with_torch(fn, tfn, [x], dtype)


def test_sigmoid_is_stable_at_extremes(dtype):
    x = pdf.Tensor(np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype), requires_grad=True)
    y = F.sigmoid(x)
    assert np.all(np.isfinite(y.numpy()))
    np.testing.assert_allclose(y.numpy(), [0, 0, 0.5, 1, 1], atol=1e-30 if dtype == np.float64 else 1e-38)
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_where_and_masked_fill_match_torch(dtype, rng):
    cond = rng.standard_normal((3, 4)) > 0
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    compare_with_torch(lambda x, y: F.where(pdf.Tensor(cond), x, y),
                       lambda x, y: torch.where(torch.tensor(cond), x, y), [a, b], dtype)
    mask = rng.standard_normal((1, 4)) > 0
    compare_with_torch(lambda x: F.masked_fill(x, pdf.Tensor(mask), -1.5),
                       lambda x: x.masked_fill(torch.tensor(mask), -1.5), [a], dtype)


def test_scalar_keeps_dtype_and_int_promotes():
    x = pdf.Tensor([1.0, 2.0])
    assert (x * 2.5).dtype == np.float32
    assert (pdf.Tensor(np.array([1.0], np.float64)) + 1).dtype == np.float64
    assert (pdf.Tensor([1, 2]) * 2).dtype == np.int64
    assert (pdf.Tensor([1, 2]) * 2.5).dtype == np.float32  # as torch: int tensor * float -> default float
    assert (pdf.Tensor([1, 2]) / 2).dtype == np.float32
    assert (pdf.Tensor([1, 2]) + pdf.Tensor([0.5, 1.0])).dtype == np.float32


def test_maximum_ties_split_gradient():
    a = pdf.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = pdf.Tensor([1.0, 1.0, 4.0], requires_grad=True)
    F.maximum(a, b).sum().backward()
    ta = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tb = torch.tensor([1.0, 1.0, 4.0], requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy())


def test_binary_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)|\(4,\).*\(2, 3\)|broadcast"):
        pdf.ones(2, 3) + pdf.ones(4)


def test_clip_bad_bounds():
    with pytest.raises(ValueError, match="clip"):
        F.clip(pdf.ones(2))
    with pytest.raises(TypeError, match="clip: min and max must be numbers"):
        F.clip(pdf.ones(2), "a")


def test_clip_min_above_max_gives_max_as_torch(dtype):
    x = np.array([-1.0, 0.5, 3.0])
    compare_with_torch(lambda t: F.clip(t, 1.0, 0.0), lambda t: torch.clamp(t, 1.0, 0.0), [x],
                       dtype)


def test_where_needs_boolean_condition():
    with pytest.raises(TypeError, match="where: condition must be boolean"):
        F.where(pdf.Tensor([1, 0]), pdf.ones(2), pdf.zeros(2))


def test_unary_rejects_non_tensor():
    with pytest.raises(TypeError, match="exp: expected a Tensor"):
        F.exp([1.0, 2.0])

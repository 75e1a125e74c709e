import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from oracle import compare_with_torch

KEYS = [
    ("int", lambda: 1), ("slice", lambda: slice(1, None, 2)), ("none", lambda: (None, 0)),
    ("tuple", lambda: (slice(None), 2)), ("ellipsis", lambda: (Ellipsis, 1)),
    ("neg", lambda: (-1, slice(None, -1))),
    ("int_array_repeats", lambda: np.array([0, 2, 0, 0])),
    ("two_arrays", lambda: (np.array([0, 1, 1]), np.array([2, 0, 2]))),
    ("bool_mask", lambda: np.array([True, False, True])),
    ("list", lambda: [2, 2, 1]),
]


@pytest.mark.parametrize("name,key", KEYS, ids=[k[0] for k in KEYS])
def test_getitem_matches_torch(name, key, dtype, rng):
    k = key()
    tk = tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in k) \
        if isinstance(k, tuple) else (torch.tensor(k) if isinstance(k, np.ndarray) else k)
    compare_with_torch(lambda t: t[k] * 1.0, lambda t: t[tk] * 1.0,
                       [rng.standard_normal((3, 4))], dtype)


def test_getitem_tensor_index_and_bad_index():
    x = pdf.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(x[pdf.Tensor([1, 0])].numpy(), [[3, 4, 5], [0, 1, 2]])
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match="integer or boolean"):
        x[np.array([0.5])]


def test_setitem_outside_autograd():
    x = pdf.zeros(2, 3)
    x[0, 1:] = 5.0
    x[pdf.Tensor([False, True])] = pdf.ones(3)
    np.testing.assert_array_equal(x.numpy(), [[0, 5, 5], [1, 1, 1]])
    w = pdf.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 1.0
    with pdf.no_grad():
        w[0] = 1.0
    assert w.numpy()[0] == 1.0
    y = w * 2
    z = y * y  # saves y
    with pdf.no_grad():  # allowed, as in torch; the version counter tells backward
        y[0] = 3.0
    with pytest.raises(RuntimeError, match="modified in place after it was used"):
        z.sum().backward()


MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((2, 3, 4), (4,)), ((1, 4), (4, 1)), ((0, 4), (4, 2)), ((2, 3, 6, 4), (4, 5))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(shapes, dtype, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    compare_with_torch(lambda x, y: x @ y, lambda x, y: x @ y, [a, b], dtype)


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        pdf.ones(2, 3) @ pdf.ones(4, 5)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        F.matmul(pdf.ones(()), pdf.ones(3))
    with pytest.raises(ValueError, match="batch dimensions"):
        pdf.ones(2, 3, 4) @ pdf.ones(3, 4, 5)

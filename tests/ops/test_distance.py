"""normalize, cosine_similarity and pairwise_distance against PyTorch (forward and backward,
both dtypes, broadcasting, p-norms, zero vectors); bad arguments."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.nn.functional as F
from op_table import Case, case_params, check

ZERO_ROW = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])

TABLE = [
    Case("F.normalize", [(3, 4)]),
    Case("F.normalize", [(2, 3, 4)], kwargs=dict(p=1.0, dim=-1)),
    Case("F.normalize", [(2, 3, 4)], kwargs=dict(p=3.0, dim=0), noncontig=True),
    Case("F.normalize", [(3, 4)], kwargs=dict(p=float("inf"), dim=1)),
    Case("F.normalize", [ZERO_ROW], id="normalize-zero-row"),
    Case("F.normalize", [(5,)], kwargs=dict(dim=0)),
    Case("F.normalize", [(0, 4)], id="normalize-empty"),
    Case("F.cosine_similarity", [(3, 4), (3, 4)]),
    Case("F.cosine_similarity", [(2, 3, 4), (3, 4)], kwargs=dict(dim=-1), id="cos-broadcast"),
    Case("F.cosine_similarity", [(2, 3, 4), (2, 3, 4)], kwargs=dict(dim=0), noncontig=True),
    Case("F.cosine_similarity", [(4,), (4,)], kwargs=dict(dim=0)),
    Case("F.cosine_similarity", [ZERO_ROW, ZERO_ROW[::-1].copy()], id="cos-zero-row"),
    Case("F.pairwise_distance", [(3, 4), (3, 4)]),
    Case("F.pairwise_distance", [(3, 4), (4,)], kwargs=dict(p=1.0, keepdim=True)),
    Case("F.pairwise_distance", [(3, 4), (3, 4)], kwargs=dict(p=3.0, eps=0.0)),
    Case("F.pairwise_distance", [(3, 4), (3, 4)], kwargs=dict(p=float("inf"))),
    Case("F.pairwise_distance", [(5,), (5,)], id="pairwise-1d"),
    Case("F.pairwise_distance", [(2, 3, 4), (2, 3, 4)], noncontig=True),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_distances_match_torch(case, dtype):
    check(case, dtype)


def test_norm_of_a_zero_vector_has_zero_gradient():
    x = pdf.Tensor(np.zeros((2, 3)), requires_grad=True)
    F.pairwise_distance(x, pdf.Tensor(np.zeros((2, 3))), eps=0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


@pytest.mark.parametrize("call,error,match", [
    (lambda a: F.normalize(a, p=0), ValueError, "p must be positive"),
    (lambda a: F.normalize(a, dim=3), IndexError, "out of range"),
    (lambda a: F.cosine_similarity(a, pdf.Tensor(np.zeros((4, 3)))), ValueError,
     "do not broadcast"),
    (lambda a: F.cosine_similarity(a, a.to(dtype=np.float32)), TypeError, "share a dtype"),
    (lambda a: F.pairwise_distance(a, np.zeros((3, 4))), TypeError, "must be a Tensor"),
    (lambda a: F.normalize(pdf.Tensor(np.zeros(3, np.int64)), dim=0), TypeError, "floating"),
])
def test_distances_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(pdf.Tensor(np.zeros((3, 4))))

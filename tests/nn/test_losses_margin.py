"""huber, margin_ranking, cosine_embedding, triplet_margin, poisson_nll and gaussian_nll losses
against PyTorch: every reduction, forward and backward (inputs, and var where torch gives it a
gradient), both dtypes; bad arguments."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.nn.functional as F
from op_table import Case, case_params, check

SIGNS = np.array([1, -1, 1, 1, -1], dtype=np.int64)
SIGNS_FLOAT = SIGNS.astype(np.float64)
NO_TARGET_GRAD = (True, True, False)
COUNTS = np.array([[0.0, 1.0, 2.0, 5.0], [3.0, 0.0, 7.0, 1.0], [1.0, 2.0, 0.0, 4.0]])

TABLE = []
for reduction in ("mean", "sum", "none"):
    r = dict(reduction=reduction)
    TABLE += [
        Case("F.huber_loss", [(3, 4), (3, 4)], kwargs=r),
        Case("F.huber_loss", [(3, 4), (3, 4)], kwargs=dict(r, delta=0.3)),
        Case("F.margin_ranking_loss", [(5,), (5,), SIGNS_FLOAT], kwargs=dict(r, margin=0.2),
             requires_grad=NO_TARGET_GRAD),
        Case("F.cosine_embedding_loss", [(5, 3), (5, 3), SIGNS], kwargs=dict(r, margin=0.1)),
        Case("F.triplet_margin_loss", [(5, 3), (5, 3), (5, 3)], kwargs=r),
        Case("F.poisson_nll_loss", [(3, 4), COUNTS], kwargs=r, requires_grad=(True, False)),
        Case("F.poisson_nll_loss", [(3, 4), COUNTS], kwargs=dict(r, log_input=False, full=True),
             low=0.1, high=3.0, requires_grad=(True, False)),
        Case("F.gaussian_nll_loss", [(3, 4), (3, 4), (3, 4)], kwargs=r, low=0.1, high=2.0),
    ]
TABLE += [
    Case("F.huber_loss", [(), ()], id="huber-0d"),
    Case("F.huber_loss", [(0, 3), (0, 3)], kwargs=dict(reduction="sum"), id="huber-empty-sum"),
    Case("F.huber_loss", [(3, 4), (3, 4)], noncontig=True),
    Case("F.cosine_embedding_loss", [(3,), (3,), np.array(-1)], id="cos-embed-unbatched"),
    Case("F.triplet_margin_loss", [(5, 3), (5, 3), (5, 3)],
         kwargs=dict(margin=0.5, p=1.0, swap=True)),
    Case("F.triplet_margin_loss", [(4,), (4,), (4,)], kwargs=dict(p=3.0), id="triplet-1d"),
    Case("F.poisson_nll_loss", [(3, 4), COUNTS], kwargs=dict(full=True),
         requires_grad=(True, False), id="poisson-full"),
    Case("F.gaussian_nll_loss", [(3, 4), (3, 4), (3,)], low=0.1, high=2.0, id="gauss-var-per-row"),
    Case("F.gaussian_nll_loss", [(3, 4), (3, 4), (3, 1)], kwargs=dict(full=True), low=0.1,
         high=2.0, id="gauss-var-column"),
    Case("F.gaussian_nll_loss", [(3, 4), (3, 4), np.full((3, 4), 1e-8)], id="gauss-var-clamped"),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_losses_match_torch(case, dtype):
    check(case, dtype)


@pytest.mark.parametrize("call,error,match", [
    (lambda a: F.huber_loss(a, a, delta=0), ValueError, "delta must be positive"),
    (lambda a: F.huber_loss(a, a, reduction="avg"), ValueError, "reduction must be"),
    (lambda a: F.huber_loss(a, a[0]), ValueError, "does not match input"),
    (lambda a: F.margin_ranking_loss(a, a[0], a), ValueError, "of one shape"),
    (lambda a: F.margin_ranking_loss(a[0], a[0], np.ones(2)), ValueError, "target of shape"),
    (lambda a: F.cosine_embedding_loss(a, a, np.ones(4)), ValueError, r"expected \(3,\)"),
    (lambda a: F.cosine_embedding_loss(a[None], a[None], np.ones(1)), ValueError, r"\(N, D\)"),
    (lambda a: F.triplet_margin_loss(a, a, a, margin=0), ValueError, "margin must be positive"),
    (lambda a: F.gaussian_nll_loss(a, a, pdf.Tensor(np.ones((2, 2)))), ValueError,
     "var of shape"),
    (lambda a: F.gaussian_nll_loss(a, a, pdf.Tensor(-np.ones((3, 4)))), ValueError,
     "negative entries"),
    (lambda a: F.poisson_nll_loss(pdf.Tensor(np.ones(3, np.int64)), np.ones(3)), TypeError,
     "floating point"),
], ids=str)
def test_losses_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(pdf.Tensor(np.ones((3, 4))))

"""Selection by index (pydyfast/ops/gather.py) against torch on both kernel paths."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import backend
from pydyfast.ops import gather as G

from op_table import Case, case_params, check

_rng = np.random.default_rng(3)
IDX = _rng.integers(0, 5, (3, 6, 2))  # into dim 1 of a (4, 5, 3) input: smaller elsewhere
IDX_FULL = _rng.integers(0, 4, (4, 5, 3))  # into dim 0, repeats included
IDX_ROWS = np.array([4, 0, 0, 2, 1, 1, 3])
MASK = _rng.standard_normal((5, 3)) > 0


def along(op, shapes, dim, grad=True, **kwargs):
    """A row for ``op(input, dim, index, *rest)``: torch's argument order, the index an integer
    array among ``shapes`` (the harness passes the inputs first)."""
    described = "-".join("x".join(map(str, s.shape if isinstance(s, np.ndarray) else s)) or "0d"
                         for s in shapes)
    return Case(op, shapes, grad=grad, id=f"{op}-dim{dim}-{described}{kwargs or ''}",
        pdf_fn=lambda x, i, *rest: getattr(pdf, op)(x, dim, i, *rest, **kwargs),
        torch_fn=lambda x, i, *rest: getattr(torch, op)(x, dim, i, *rest, **kwargs))


TABLE = [
    along("gather", [(4, 5, 3), IDX], 1),
    along("gather", [(4, 5, 3), IDX_FULL], 0),
    along("gather", [(4, 5, 3), IDX_FULL[:, :, :2] % 3], -1),
    along("gather", [(4, 5), np.zeros((0, 5), np.int64)], 0),
    along("gather", [(), np.array(0)], 0),
    Case("Tensor.gather", [(4, 5, 3)], noncontig=True,
         pdf_fn=lambda x: x.gather(1, pdf.Tensor(IDX)),
         torch_fn=lambda x: x.gather(1, torch.tensor(IDX))),
    along("scatter_add", [(4, 5, 3), IDX_FULL, (4, 5, 3)], 0),
    along("scatter_add", [(4, 5, 3), IDX, (3, 6, 2)], 1),
    along("scatter", [(4, 5, 3), IDX_FULL[:, :1] % 5, (4, 1, 3)], 1),
    along("scatter", [(4, 5, 3), IDX_FULL[:, :1] % 3], -1, value=2.5),
    along("scatter", [(4, 5, 3), IDX_FULL, (4, 5, 3)], 0, grad=False, reduce="add"),
    along("index_select", [(4, 5, 3), IDX_ROWS], 1),
    along("index_select", [(4, 5, 3), np.array([3, 3])], 0),
    along("index_select", [(4, 5), np.array([], np.int64)], -1),
    Case("Tensor.index_select", [(4, 5, 3)], noncontig=True,
         pdf_fn=lambda x: x.index_select(-1, pdf.Tensor([2, 0])),
         torch_fn=lambda x: x.index_select(-1, torch.tensor([2, 0]))),
    along("index_add", [(4, 5, 3), IDX_ROWS, (4, 7, 3)], 1, alpha=2.0),
    along("index_add", [(6, 3), np.array([5, 5]), (2, 3)], 0),
    along("index_add", [np.arange(6).reshape(3, 2), np.array([2, 2]),
                        np.array([[1, 1], [2, 2]])], 0),
    Case("take", [(4, 5), np.array([[0, -1], [7, 7]])]),
    Case("take", [(3,), np.zeros((0,), np.int64)], id="take-empty"),
    Case("masked_select", [(5, 3), MASK]),
    Case("masked_select", [(3,), MASK], id="masked_select-broadcast-input"),
    Case("masked_select", [(2, 5, 3), MASK], noncontig=True, id="masked_select-broadcast-mask"),
    Case("nonzero", [np.array([[0, 1, 0], [2, 0, 3]])], grad=False, dtypes=("float64",)),
    Case("nonzero", [np.array(0.0)], grad=False, dtypes=("float64",), id="nonzero-0d"),
    Case("nonzero", [np.array([[0.0, 1.0]])], kwargs={"as_tuple": True}, grad=False,
         dtypes=("float64",), id="nonzero-tuple"),
    Case("argwhere", [np.array([[0, 1, 0], [2, 0, 3]])], grad=False, dtypes=("float64",)),
    Case("bincount", [np.array([0, 2, 2, 5])], grad=False, dtypes=("float64",)),
    Case("bincount", [np.array([0, 2, 2]), (3,)], kwargs={"minlength": 5}, grad=False),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_selection_matches_torch(case, dtype, kernels):
    check(case, dtype)


@pytest.mark.parametrize("call,error,message", [
    (lambda: pdf.gather(pdf.ones(3, 2), 0, pdf.Tensor([[3]])), IndexError,
     r"gather: index 3 is out of range for a dimension of size 3 \(tensor of shape \(3, 2\)\)"),
    (lambda: pdf.gather(pdf.ones(3, 2), 0, pdf.Tensor([1, 2])), ValueError,
     r"gather: index of shape \(2,\) must have as many dimensions as the input \(3, 2\)"),
    (lambda: pdf.gather(pdf.ones(3, 2), 0, pdf.Tensor([[0.5]])), TypeError,
     r"gather: expected an integer index, got dtype float32"),
    (lambda: pdf.gather(pdf.ones(3, 2), 0, pdf.zeros(1, 3, dtype=pdf.int64)), ValueError,
     r"gather: index of shape \(1, 3\) is larger than the input \(3, 2\)"),
    (lambda: pdf.scatter_add(pdf.ones(3), 0, pdf.Tensor([0, 1]), pdf.ones(1)), ValueError,
     r"scatter_add: index of shape \(2,\) is larger than the input \(3,\) or src \(1,\)"),
    (lambda: pdf.scatter(pdf.ones(3), 0, pdf.Tensor([0])), TypeError,
     r"scatter: pass exactly one of src"),
    (lambda: pdf.index_select(pdf.ones(3, 2), 1, pdf.Tensor([-1])), IndexError,
     r"index_select: index -1 is out of range"),
    (lambda: pdf.index_add(pdf.ones(3, 2), 0, pdf.Tensor([0]), pdf.ones(2, 2)), ValueError,
     r"index_add: source of shape \(2, 2\) should have shape \(1, 2\)"),
    (lambda: pdf.take(pdf.ones(2, 2), pdf.Tensor([4])), IndexError, r"take: index 4"),
    (lambda: pdf.masked_select(pdf.ones(2), pdf.Tensor([1, 0])), TypeError,
     r"masked_select: mask must be boolean"),
    (lambda: pdf.bincount(pdf.Tensor([-1, 2])), ValueError, r"bincount: the input must be"),
])
def test_bad_inputs_raise_naming_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_compiled_kernels_match_references_and_check_indices(dtype):
    assert backend._C is not None, f"compiled kernels are not loaded: {backend.info()['_C_error']}"
    r = np.random.default_rng(0)
    x = r.standard_normal((3, 50, 40)).astype(dtype)
    idx = r.integers(0, 50, (3, 70, 40))
    src = r.standard_normal((3, 70, 40)).astype(dtype)
    tol = dict(rtol=1e-5) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_array_equal(backend._C.gather_fwd(x, idx), G._gather_ref(np, x, idx))
    np.testing.assert_allclose(backend._C.scatter_add_fwd(x, idx, src),
                               G._scatter_add_ref(np, x, idx, src), **tol)
    rows = idx[0, :, 0]
    np.testing.assert_allclose(backend._C.index_add_fwd(x, rows, src, 0.5),
                               G._index_add_ref(np, x, rows, src, 0.5), **tol)
    with pytest.raises(IndexError, match="scatter_add: index 50 is out of range"):
        backend._C.scatter_add_fwd(x, idx + 1 - idx + 49, src)
    with pytest.raises(IndexError, match="gather_bwd: index -1 is out of range"):
        backend._C.gather_bwd(src, idx - 1, 50)
    with pytest.raises(IndexError, match="index_select_bwd: index 50 is out of range"):
        backend._C.index_select_bwd(src, rows + 50 - rows, 50)


@pytest.mark.parametrize("outer,n,m,inner", [
    (1, 3000, 4000, 24),   # an embedding gradient: one outer slice, threads split the rows
    (5, 40, 300, 33),      # several outer slices, split among the threads
    (2, 7, 0, 3),          # no index: zeros
    (1, 1, 5, 1),          # every index the same row
    (0, 4, 3, 5),          # no outer slice at all
    (4096, 1000, 5, 1),    # topk's gradient: thousands of short lines
])
def test_gradient_kernels_match_their_references(dtype, outer, n, m, inner):
    r = np.random.default_rng(n)
    x = r.standard_normal((outer, n, inner)).astype(dtype)
    rows = r.integers(0, n, m)  # repeats included
    gy = r.standard_normal((outer, m, inner)).astype(dtype)
    idx = r.integers(0, n, (outer, m, inner))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    np.testing.assert_array_equal(backend._C.index_select_fwd(x, rows),
                                  G._index_select_ref(np, x, rows))
    np.testing.assert_allclose(backend._C.index_select_bwd(gy, rows, n),
                               G._index_select_bwd_ref(np, gy, rows, n), **tol)
    np.testing.assert_allclose(backend._C.gather_bwd(gy, idx, n),
                               G._gather_bwd_ref(np, gy, idx, n), **tol)
    np.testing.assert_allclose(backend._C.index_add_fwd(x, rows, gy, -2.0),
                               G._index_add_ref(np, x, rows, gy, -2.0), **tol)


def test_gradient_kernels_reject_mismatched_shapes():
    gy, idx = np.zeros((2, 3, 4)), np.zeros((2, 3, 4), np.int64)
    with pytest.raises(ValueError, match=r"gather_bwd: expected a gradient of the index's shape "
                                         r"\(2, 3, 5\), got \(2, 3, 4\)"):
        backend._C.gather_bwd(gy, np.zeros((2, 3, 5), np.int64), 3)
    with pytest.raises(ValueError, match=r"index_select_bwd: expected a gradient \(outer, m, "
                                         r"inner\) for an index \(m,\), got \(2, 3, 4\) and "
                                         r"\(2,\)"):
        backend._C.index_select_bwd(gy, np.zeros(2, np.int64), 3)
    with pytest.raises(ValueError, match="gather_bwd: size -1 must be non-negative"):
        backend._C.gather_bwd(gy, idx, -1)
    with pytest.raises(ValueError, match=r"index_select: expected x \(outer, n, inner\)"):
        backend._C.index_select_fwd(np.zeros((2, 3)), np.zeros(2, np.int64))

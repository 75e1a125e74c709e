"""Sorting and order statistics (pydyfast/ops/sort.py) against torch, topk and kthvalue on both
kernel paths, and the compiled topk_indices against its reference."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf

from pydyfast import backend
from pydyfast.ops import sort

from op_table import Case, case_params, check

TIES = np.array([[2.0, 1.0, 2.0, 0.5, 1.0], [3.0, 3.0, -1.0, 3.0, 0.0]])
WITH_NAN = np.array([1.0, np.nan, -2.0, 0.5])
INTS = np.array([[3, 1, 2], [0, -5, 9]])
TABLE = [
    Case("sort", [(3, 5)]), Case("sort", [(3, 5)], kwargs={"dim": 0, "descending": True}),
    Case("sort", [(2, 3, 4)], kwargs={"dim": -2}, noncontig=True),
    Case("sort", [()]), Case("sort", [(0, 3)], kwargs={"dim": 1}),
    # stable=True makes torch's tie order defined; ours is stable always
    Case("sort", [TIES], kwargs={"dim": 1, "stable": True}),
    Case("sort", [TIES], kwargs={"dim": 1, "descending": True, "stable": True}),
    Case("sort", [WITH_NAN], kwargs={"stable": True}),
    Case("sort", [WITH_NAN], kwargs={"descending": True, "stable": True}),
    Case("argsort", [(3, 5)], kwargs={"dim": 0}, grad=False),
    Case("argsort", [TIES], kwargs={"descending": True, "stable": True}, grad=False),
    Case("msort", [(4, 3)]),
    Case("Tensor.sort", [(3, 5)], kwargs={"descending": True}),
    Case("topk", [(3, 6)], args=(2,)),
    Case("topk", [(3, 6)], args=(3,), kwargs={"dim": 0, "largest": False}, noncontig=True),
    Case("topk", [(4,)], args=(0,), id="topk-k0"),
    Case("topk", [(2, 3, 5)], args=(5,), kwargs={"dim": -1}),
    Case("topk", [(2, 0)], args=(0,), id="topk-empty-rows"),
    Case("topk", [WITH_NAN], args=(2,), id="topk-nan-first"),
    Case("topk", [WITH_NAN], args=(2,), kwargs={"largest": False}, id="topk-smallest-nan-last"),
    Case("topk", [(2, 300)], args=(7,), kwargs={"dim": 1}, noncontig=True, id="topk-long-rows"),
    Case("Tensor.topk", [(3, 6)], args=(1,)),
    Case("kthvalue", [(3, 6)], args=(2,)),
    Case("kthvalue", [(3, 6)], args=(3,), kwargs={"dim": 0, "keepdim": True}),
    Case("kthvalue", [()], args=(1,)),
    *[Case(op, [INTS], args=args, grad=False, dtypes=("float64",), id=f"{op}-int")
      for op, args in (("sort", ()), ("topk", (2,)), ("kthvalue", (2,)), ("msort", ()))],
    Case("unique", [np.array([3, 1, 1, 2, 3])], grad=False, dtypes=("float64",)),
    Case("unique", [np.array([3.0, 1.0, 1.0])], kwargs={"return_inverse": True,
                                                        "return_counts": True}, grad=False),
    Case("unique", [np.array([[1, 2], [0, 0], [1, 2]])], kwargs={"dim": 0,
                                                                 "return_inverse": True},
         grad=False, dtypes=("float64",), id="unique-dim0"),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_sorting_matches_torch(case, dtype, kernels):
    check(case, dtype)


@pytest.mark.parametrize("k", [0, 1, 5, 64])
@pytest.mark.parametrize("largest", [True, False])
def test_compiled_topk_matches_the_reference(k, largest, dtype):
    assert backend._C is not None, f"compiled kernels are not loaded: {backend.info()['_C_error']}"
    x = np.random.default_rng(1).integers(0, 9, (70, 64)).astype(dtype)  # many ties
    x[3, 5] = x[4, 0] = np.nan
    np.testing.assert_array_equal(backend._C.topk_indices(x, k, largest),
                                  sort._topk_ref(np, x, k, largest))
    with pytest.raises(ValueError, match="topk: k=65 is out of range for rows of length 64"):
        backend._C.topk_indices(x, 65, largest)


def test_results_are_named_pairs():
    values, indices = pdf.sort(pdf.Tensor([2.0, 1.0]))
    out = pdf.topk(pdf.Tensor([2.0, 1.0, 3.0]), 2)
    assert out.values.tolist() == [3.0, 2.0] and out.indices.tolist() == [2, 0]
    assert indices.dtype == np.int64 and values.tolist() == [1.0, 2.0]


def test_ties_favour_the_earlier_position_in_topk():
    out = pdf.topk(pdf.Tensor([1.0, 3.0, 3.0, 2.0]), 2)
    assert out.indices.tolist() == [1, 2]  # torch leaves the tie order unspecified


@pytest.mark.parametrize("call,message", [
    (lambda: pdf.topk(pdf.ones(2, 3), 4), r"topk: k=4 is out of range for dimension 1 of size 3"),
    (lambda: pdf.kthvalue(pdf.ones(3), 0), r"kthvalue: k=0 is out of range"),
    (lambda: pdf.sort(pdf.ones(3), dim=1), r"sort: axis 1 is out of range"),
])
def test_bad_arguments_name_the_op(call, message):
    with pytest.raises((ValueError, IndexError), match=message):
        call()


def test_sort_gradient_goes_to_the_source_positions():
    x = pdf.Tensor([3.0, 1.0, 2.0], requires_grad=True)
    values = pdf.sort(x, descending=True).values
    (values * pdf.Tensor([1.0, 10.0, 100.0])).sum().backward()
    t = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
    (torch.sort(t, descending=True).values * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())

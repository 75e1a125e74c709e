"""prod, norm, all, any (pydyfast/ops/prod_norm.py) against torch."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf

from op_table import Case, case_params, check

WITH_ZEROS = np.array([[1.5, 0.0, 2.0], [0.0, 3.0, 0.0], [2.0, -0.5, 1.0]])
BOOLS = np.array([[True, False], [True, True]])
TABLE = [
    Case("prod", [(3, 4)]), Case("prod", [(3, 4)], args=(1,)),
    Case("prod", [(2, 3, 4)], kwargs={"dim": -2, "keepdim": True}, noncontig=True),
    Case("prod", [()]), Case("prod", [(0, 3)]), Case("prod", [(0, 3)], args=(0,)),
    Case("prod", [WITH_ZEROS], id="prod-zeros"), Case("prod", [WITH_ZEROS], args=(0,),
                                                      id="prod-zeros-dim0"),
    Case("prod", [WITH_ZEROS], args=(1,), id="prod-zeros-dim1"),
    Case("Tensor.prod", [(3, 4)], args=(0,)),
    Case("prod", [np.array([[1, 2], [3, 4]], np.int32)], grad=False, dtypes=("float64",),
         id="prod-int32"),
    Case("prod", [BOOLS], args=(1,), grad=False, dtypes=("float64",), id="prod-bool"),
    Case("norm", [(3, 4)]), Case("norm", [(3, 4)], kwargs={"dim": 1}, noncontig=True),
    Case("norm", [(3, 4)], kwargs={"p": 1, "dim": 0}), Case("norm", [(3, 4)], kwargs={"p": 3}),
    Case("norm", [(3, 4)], kwargs={"p": 0.5, "dim": (0, 1), "keepdim": True}),
    Case("norm", [(3, 4)], kwargs={"p": float("inf"), "dim": -1}),
    Case("norm", [(3, 4)], kwargs={"p": float("-inf")}),
    Case("norm", [(3, 4)], kwargs={"p": 0}),
    Case("norm", [(3, 4)], kwargs={"p": "fro", "dim": (0, 1)}),
    Case("norm", [()]), Case("norm", [(0, 3)]),
    Case("norm", [np.zeros((2, 3))], kwargs={"dim": 1}, id="norm-zero-rows"),
    Case("Tensor.norm", [(3, 4)], args=(2, 1)),
    Case("all", [BOOLS], grad=False, dtypes=("float64",)),
    Case("all", [BOOLS], args=(1,), grad=False, dtypes=("float64",)),
    Case("any", [BOOLS], kwargs={"dim": 0, "keepdim": True}, grad=False, dtypes=("float64",)),
    Case("any", [WITH_ZEROS], args=(-1,), grad=False), Case("all", [(0, 2)], grad=False),
    Case("Tensor.any", [np.array([0, 2], np.uint8)], grad=False, dtypes=("float64",),
         id="any-uint8"),
    Case("Tensor.all", [WITH_ZEROS], grad=False),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_reductions_match_torch(case, dtype):
    check(case, dtype)


def test_prod_gradient_with_two_zeros_is_zero_except_where_torch_says():
    x = pdf.Tensor([0.0, 2.0, 0.0, 3.0], requires_grad=True)
    pdf.prod(x).backward()
    t = torch.tensor([0.0, 2.0, 0.0, 3.0], requires_grad=True)
    torch.prod(t).backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("call,error,message", [
    (lambda: pdf.prod(pdf.ones(2, 3), (0, 1)), TypeError, r"prod: dim must be one int"),
    (lambda: pdf.norm(pdf.ones(2), p="nuc"), ValueError, r"norm: p='nuc' is not supported"),
    (lambda: pdf.norm(pdf.Tensor([1, 2])), TypeError, r"norm: expected a floating tensor"),
    (lambda: pdf.all(pdf.ones(2), 1), IndexError, r"all: axis 1 is out of range"),
])
def test_bad_arguments_name_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()

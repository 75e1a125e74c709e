"""The op-table harness itself: rows of existing ops pass, and a wrong op fails."""
import numpy as np
import pytest

import pydyfast as pdf

from op_table import Case, case_params, check

TABLE = [
    Case("exp", [(3, 4)]),
    Case("exp", [()], id="exp-0d"),
    Case("exp", [(0, 3)], id="exp-empty"),
    Case("sum", [(3, 4)], kwargs={"dim": -1}),
    Case("Tensor.reshape", [(3, 4)], args=(2, 6), noncontig=True),
    Case("F.softmax", [(2, 5)], kwargs={"dim": 1}),
    Case("matmul", [(2, 3), (3, 4)]),
    Case("Tensor.__getitem__", [(4, 3)], args=((np.array([0, 2, 2]),),), id="getitem-repeat"),
    Case("where", [np.array([True, False, True]), (3,), (3,)]),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_rows_of_existing_ops_match_torch(case, dtype):
    check(case, dtype)


def test_a_wrong_forward_fails():
    case = Case("exp", [(3,)], pdf_fn=lambda x: pdf.exp(x) * 1.01)
    with pytest.raises(AssertionError, match="forward"):
        check(case, np.float64)


def test_a_wrong_gradient_fails():
    case = Case("exp", [(3,)], pdf_fn=lambda x: pdf.exp(x.detach()) + x * 0)
    with pytest.raises(AssertionError, match="grad of input 0"):
        check(case, np.float64)


def test_a_wrong_dtype_fails():
    case = Case("exp", [(3,)], pdf_fn=lambda x: pdf.exp(x).double())
    with pytest.raises(AssertionError, match="dtype"):
        check(case, np.float32)


def test_params_expand_rows_over_their_dtypes():
    params = case_params([Case("exp", [(3,)], dtypes=("float64",)), Case("exp", [(2,)])])
    assert [p.values[1] for p in params] == [np.float64, np.float32, np.float64]

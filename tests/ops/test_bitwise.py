"""Bitwise and logical ops (pydyfast/ops/bitwise.py) against torch, on int and bool tensors."""
import numpy as np
import pytest

import pydyfast as pdf

from op_table import Case, case_params, check

A = np.array([[5, -6, 7], [0, 9, 12]])
B = np.array([3, 10, -1])
P = np.array([[True, False, True], [False, False, True]])
Q = np.array([True, False, False])
SHIFT = np.array([0, 1, 3])
ROW = dict(grad=False, dtypes=("float64",))  # integer/bool inputs: the dtype does not matter
TABLE = [
    *[Case(op, [A, B], **ROW) for op in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    *[Case(op, [P, Q], **ROW) for op in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    *[Case(op, [A.astype(np.int32), B.astype(np.int8)], **ROW, id=f"{op}-int32-int8")
      for op in ("bitwise_and", "bitwise_or")],
    Case("bitwise_not", [A], **ROW), Case("bitwise_not", [P], **ROW),
    Case("bitwise_left_shift", [A, SHIFT], **ROW), Case("bitwise_right_shift", [A, SHIFT], **ROW),
    *[Case(f"Tensor.__{op}__", [A, B], **ROW) for op in ("and", "or", "xor")],
    *[Case(f"Tensor.__{op}__", [P], args=(True,), **ROW) for op in ("and", "or", "xor")],
    Case("Tensor.__rand__", [A], args=(6,), **ROW), Case("Tensor.__ror__", [A], args=(6,), **ROW),
    Case("Tensor.__invert__", [A], **ROW), Case("Tensor.__invert__", [P], **ROW),
    Case("Tensor.__lshift__", [A], args=(2,), **ROW),
    Case("Tensor.__rshift__", [A], args=(1,), **ROW),
    *[Case(op, [A, B], **ROW) for op in ("logical_and", "logical_or", "logical_xor")],
    *[Case(op, [P, Q], **ROW) for op in ("logical_and", "logical_or", "logical_xor")],
    Case("logical_not", [A], **ROW), Case("logical_not", [P], **ROW),
    Case("logical_and", [(3, 4), (4,)], grad=False, id="logical_and-float"),
    Case("logical_not", [(0, 2)], grad=False, id="logical_not-empty"),
    Case("bitwise_and", [np.array(5), np.array(3)], **ROW, id="bitwise_and-0d"),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_bitwise_and_logical_match_torch(case, dtype):
    check(case, dtype)


def test_bitwise_ops_refuse_floats_naming_the_dtype():
    with pytest.raises(TypeError, match="bitwise_and: expected integer or bool tensors, got "
                                        "dtype float32"):
        pdf.ones(2) & pdf.Tensor([1, 2])
    with pytest.raises(TypeError, match="bitwise_not: expected integer or bool"):
        ~pdf.ones(2)


def test_logical_ops_return_bool_without_grad():
    x = pdf.Tensor([0.0, 2.0], requires_grad=True)
    y = pdf.logical_or(x, pdf.Tensor([False, False]))
    assert y.dtype == np.bool_ and not y.requires_grad

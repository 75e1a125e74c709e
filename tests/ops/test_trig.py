"""Trigonometric and hyperbolic functions (pydyfast/ops/trig.py) against torch."""
import numpy as np
import pytest

import pydyfast as pdf

from op_table import Case, case_params, check

UNIT = dict(low=-0.9, high=0.9)  # inside the domain of asin, acos, atanh
TABLE = [
    Case("tan", [(3, 4)], low=-1.2, high=1.2, noncontig=True),
    Case("asin", [(3, 4)], **UNIT), Case("acos", [(3, 4)], **UNIT, noncontig=True),
    Case("atan", [(3, 4)], low=-5, high=5), Case("sinh", [(3, 4)]), Case("cosh", [(3, 4)]),
    Case("asinh", [(3, 4)], low=-5, high=5), Case("acosh", [(3, 4)], low=1.1, high=5),
    Case("atanh", [(3, 4)], **UNIT, noncontig=True),
    *[Case(op, [()], low=0.2, high=0.8) for op in ("tan", "asin", "acos", "atan", "sinh",
                                                   "cosh", "asinh", "atanh")],
    *[Case(op, [(0, 2)]) for op in ("tan", "asin", "atan", "sinh")],
    Case("arcsin", [(4,)], **UNIT), Case("arctan", [(4,)]),
    Case("Tensor.arccos", [(4,)], **UNIT), Case("Tensor.atanh", [(2, 3)], **UNIT),
    Case("atan2", [(3, 4), (3, 4)]),
    Case("atan2", [(3, 4), (4,)], noncontig=True, id="atan2-broadcast"),
    Case("arctan2", [(2, 1), (1, 3)]),
    Case("Tensor.atan2", [(3,), (3,)]),
    # integer inputs compute in the default dtype, float32: compare at its tolerance
    *[Case(op, [np.array([1, 2, 3])], grad=False, id=f"{op}-int", dtypes=("float32",))
      for op in ("tan", "atan", "sinh", "asinh")],
    Case("atan2", [np.array([1, -2]), np.array([2, 2])], grad=False, id="atan2-int",
         dtypes=("float32",)),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_trig_matches_torch(case, dtype):
    check(case, dtype)


def test_out_of_domain_gives_nan_as_torch():
    y = pdf.asin(pdf.Tensor([2.0]))
    assert np.isnan(y.numpy()).all()


def test_non_tensor_input_names_the_op():
    with pytest.raises(TypeError, match="acosh: expected a Tensor"):
        pdf.acosh(2.0)

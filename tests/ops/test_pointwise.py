"""Pointwise arithmetic (pydyfast/ops/pointwise.py) against torch: rounding, division modes,
remainders, logs/exps, tolerance tests, nan handling, clamp_min/clamp_max, lerp."""
import numpy as np
import pytest

import pydyfast as pdf

from op_table import Case, case_params, check

INTS = np.array([[5, -5, 7], [0, 9, -8]])
DIVISORS = np.array([3, 3, -2])
SPECIALS = np.array([1.0, np.nan, np.inf, -np.inf, -0.5])
TABLE = [
    *[Case(op, [(3, 4)], noncontig=True) for op in ("floor", "ceil", "round", "trunc", "sign")],
    *[Case(op, [()]) for op in ("floor", "ceil", "round", "trunc", "frac", "sign")],
    *[Case(op, [(0, 3)]) for op in ("floor", "frac", "sign", "rsqrt", "log1p")],
    Case("round", [(3, 4)], kwargs={"decimals": 2}, low=-20, high=20),
    Case("frac", [(3, 4)], low=-5, high=5, noncontig=True),
    Case("fix", [(2, 3)], low=-5, high=5),
    Case("reciprocal", [(3, 4)], low=0.5, high=3, noncontig=True),
    Case("rsqrt", [(3, 4)], low=0.5, high=3),
    Case("log2", [(3, 4)], low=0.5, high=3),
    Case("log10", [(2, 1, 3)], low=0.5, high=3),
    Case("log1p", [(3, 4)], low=-0.5, high=3),
    Case("expm1", [(3, 4)]),
    Case("exp2", [(3, 4)], noncontig=True),
    Case("remainder", [(3, 4), (3, 4)], low=0.5, high=3),
    Case("remainder", [(3, 4), (4,)], low=-3, high=3, id="remainder-broadcast-signs"),
    Case("remainder", [(3, 4)], args=(1.5,), low=-3, high=3, id="remainder-scalar"),
    Case("fmod", [(3, 4), (1, 4)], low=-3, high=3, noncontig=True),
    Case("fmod", [()], args=(-0.7,), id="fmod-0d-scalar"),
    Case("Tensor.__mod__", [(3, 4)], args=(0.75,), low=-3, high=3),
    # torch has no derivative for floor_divide; ours is 0, as div(rounding_mode='floor')'s
    Case("floor_divide", [(3, 4), (4,)], low=0.5, high=3, grad=False),
    Case("Tensor.__floordiv__", [(2, 3)], args=(0.6,), low=-3, high=3, grad=False),
    Case("div", [(3, 4), (3, 4)], kwargs={"rounding_mode": "trunc"}, low=-3, high=3),
    Case("div", [(3, 4), (4,)], kwargs={"rounding_mode": "floor"}, low=-3, high=3),
    Case("div", [(3, 4), (4,)], kwargs={"rounding_mode": None}, low=0.5, high=3),
    Case("Tensor.div", [(3,)], args=(2.0,), kwargs={"rounding_mode": "floor"}, low=-3, high=3),
    Case("lerp", [(3, 4), (3, 4)], args=(0.3,)),
    Case("lerp", [(3, 4), (4,), (3, 1)], id="lerp-tensor-weight"),
    Case("clamp_min", [(3, 4)], args=(0.1,), noncontig=True),
    Case("clamp_max", [(3, 4)], args=(-0.2,)),
    Case("clamp_min", [(3, 4), (4,)], id="clamp_min-tensor"),
    Case("Tensor.clamp_max", [(3, 4), (3, 4)], id="clamp_max-tensor"),
    Case("nan_to_num", [SPECIALS]),
    Case("nan_to_num", [SPECIALS], kwargs={"nan": 2.0, "posinf": 9.0, "neginf": -9.0}),
    # integer tensors keep torch's dtypes (no gradient)
    *[Case(op, [INTS], grad=False) for op in ("floor", "ceil", "round", "trunc", "sign", "fix")],
    *[Case(op, [INTS], grad=False, dtypes=("float32",))  # computed in the default float32
      for op in ("reciprocal", "log2", "exp2", "expm1")],
    Case("remainder", [INTS, DIVISORS], grad=False),
    Case("fmod", [INTS, DIVISORS], grad=False),
    Case("floor_divide", [INTS, DIVISORS], grad=False),
    Case("div", [INTS, DIVISORS], kwargs={"rounding_mode": "trunc"}, grad=False),
    Case("div", [INTS, DIVISORS], kwargs={"rounding_mode": "floor"}, grad=False),
    Case("Tensor.__mod__", [INTS], args=(3,), grad=False),
    Case("Tensor.__rfloordiv__", [DIVISORS], args=(7,), grad=False),
    Case("remainder", [INTS], args=(2.5,), grad=False, id="remainder-int-by-float"),
    *[Case(op, [SPECIALS], grad=False) for op in ("isnan", "isinf", "isfinite", "isposinf",
                                                  "isneginf")],
    Case("isnan", [INTS], grad=False),
    Case("isclose", [(3, 4), (3, 4)], grad=False, id="isclose-random"),
    Case("isclose", [SPECIALS, SPECIALS], kwargs={"equal_nan": True}, grad=False),
    Case("isclose", [(3,), (3,)], kwargs={"rtol": 0.0, "atol": 2.0}, grad=False),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_pointwise_matches_torch(case, dtype):
    check(case, dtype)


def test_allclose_is_a_python_bool():
    a = pdf.Tensor([1.0, 2.0])
    assert pdf.allclose(a, a + 1e-9) is True
    assert pdf.allclose(a, a + 1.0) is False
    assert pdf.allclose(pdf.Tensor([float("nan")]), pdf.Tensor([float("nan")]), equal_nan=True)


def test_integer_division_by_zero_raises_like_torch():
    with pytest.raises(ZeroDivisionError, match="remainder: integer division by zero"):
        pdf.Tensor([1, 2]) % pdf.Tensor([1, 0])
    with pytest.raises(ZeroDivisionError, match="div: integer division by zero"):
        pdf.div(pdf.Tensor([1, 2]), 0, rounding_mode="floor")


def test_float_division_by_zero_gives_inf_and_nan():
    y = pdf.Tensor([1.0, -1.0, 0.0]) // 0.0
    assert np.isinf(y.numpy()[:2]).all() and np.isnan(y.numpy()[2])


def test_bad_arguments_name_the_op():
    with pytest.raises(TypeError, match="frac: expected a floating tensor, got dtype int64"):
        pdf.frac(pdf.Tensor([1, 2]))
    with pytest.raises(ValueError, match="div: rounding_mode must be"):
        pdf.div(pdf.ones(2), 2, rounding_mode="round")
    with pytest.raises(TypeError, match="lerp: expected input and end of one dtype"):
        pdf.lerp(pdf.ones(2), pdf.ones(2, dtype=pdf.float64), 0.5)
    with pytest.raises(TypeError, match="floor: expected a Tensor"):
        pdf.floor([1.5])
    with pytest.raises(ValueError, match="isclose: rtol"):
        pdf.isclose(pdf.ones(2), pdf.ones(2), rtol=-1.0)


def test_rounding_gradient_is_zero_not_missing():
    x = pdf.Tensor([0.4, 1.6], requires_grad=True)
    (pdf.floor(x) + pdf.sign(x) + x // 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])

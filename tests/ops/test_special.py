"""Special functions (pydyfast/ops/special.py) against torch, with and without scipy."""
import builtins

import numpy as np
import pytest
import torch

import pydyfast as pdf
from pydyfast.ops import special

from op_table import Case, case_params, check

TABLE = [
    Case("erf", [(3, 4)], noncontig=True), Case("erf", [()]), Case("erf", [(0, 2)]),
    Case("erfc", [(3, 4)], low=-3, high=5), Case("erfc", [(2,)], low=8, high=9, id="erfc-tail"),
    Case("erfinv", [(3, 4)], low=-0.99, high=0.99, noncontig=True), Case("erfinv", [()], low=0.3),
    Case("Tensor.erf", [(2, 3)]), Case("Tensor.erfinv", [(2, 3)], low=-0.5, high=0.5),
    Case("erfinv", [np.array([-1.0, 1.0, 1.5, 0.0])], grad=False, id="erfinv-edges"),
    *[Case(op, [np.array([0, 1, 2])], grad=False, dtypes=("float32",), id=f"{op}-int")
      for op in ("erf", "erfc")],
    Case("xlogy", [(3, 4), (3, 4)], low=0.1, high=3),
    Case("xlogy", [(3, 4), (4,)], low=0.1, high=3, noncontig=True, id="xlogy-broadcast"),
    Case("xlogy", [np.array([0.0, 0.0, 1.0, 2.0]), np.array([0.0, 2.0, 0.0, np.nan])],
         id="xlogy-zeros-and-nan"),
    Case("xlogy", [(3,)], args=(2.0,), low=0.1, id="xlogy-scalar-other"),
    Case("Tensor.xlogy", [(2, 2), (2, 2)], low=0.5),
    Case("xlogy", [np.array([0, 2]), np.array([3, 4])], grad=False, dtypes=("float32",),
         id="xlogy-int"),
    Case("F.softsign", [(3, 4)], noncontig=True), Case("F.softsign", [()]),
    Case("F.softplus", [(3, 4)], kwargs={"beta": 2.0}),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_special_functions_match_torch(case, dtype):
    check(case, dtype)


def test_fallbacks_without_scipy_match_torch(monkeypatch):
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError("scipy hidden by the test")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_scipy)
    x = np.linspace(-0.999, 0.999, 41)
    np.testing.assert_allclose(special._erfinv(x), torch.erfinv(torch.tensor(x)).numpy(),
                               rtol=1e-12, atol=1e-12)
    z = np.linspace(-4, 9, 27)
    np.testing.assert_allclose(special._erf(z), torch.erf(torch.tensor(z)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(special._erfc(z), torch.erfc(torch.tensor(z)).numpy(), rtol=1e-13)


def test_bad_inputs_name_the_op():
    with pytest.raises(TypeError, match="softsign: expected a Tensor"):
        pdf.nn.functional.softsign(1.0)
    with pytest.raises(TypeError, match="erf: expected a Tensor"):
        pdf.erf([0.5])
    with pytest.raises(ValueError, match="broadcast"):
        pdf.xlogy(pdf.ones(2), pdf.ones(3))

"""Scans (pydyfast/ops/scan.py) against torch on both kernel paths (compiled and reference),
and the compiled kernels against the references directly."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import backend
from pydyfast.ops import scan

from op_table import Case, case_params, check

WITH_ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 0.5], [2.0, -0.5, 1.0, 3.0]])
TABLE = [
    *[Case(op, [(3, 4, 5)], kwargs={"dim": d}) for op in ("cumsum", "cumprod", "logcumsumexp",
                                                          "cummax", "cummin")
      for d in (0, 1, -1)],
    *[Case(op, [(4, 6)], kwargs={"dim": 0}, noncontig=True) for op in ("cumsum", "cumprod",
                                                                        "logcumsumexp", "cummax")],
    *[Case(op, [()], kwargs={"dim": 0}) for op in ("cumsum", "cumprod", "cummin",
                                                   "logcumsumexp")],
    *[Case(op, [(0, 3)], kwargs={"dim": 0}) for op in ("cumsum", "cumprod", "cummax")],
    *[Case(op, [(2, 0)], kwargs={"dim": -1}) for op in ("logcumsumexp", "cumprod")],
    Case("cumsum", [(1, 5)], kwargs={"dim": 0}, id="cumsum-size1"),
    Case("cumprod", [WITH_ZEROS], kwargs={"dim": 1}, id="cumprod-zeros-dim1"),
    Case("cumprod", [WITH_ZEROS], kwargs={"dim": 0}, id="cumprod-zeros-dim0"),
    Case("logcumsumexp", [(3, 7)], kwargs={"dim": 1}, low=-300, high=300, id="logcumsumexp-wide"),
    Case("cummax", [np.array([[1.0, 3.0, 3.0, 2.0, 3.0]])], kwargs={"dim": 1}, id="cummax-ties"),
    Case("cummin", [np.array([3.0, 1.0, 1.0, 2.0, 1.0])], kwargs={"dim": 0}, id="cummin-ties"),
    Case("Tensor.cumsum", [(3, 4)], args=(1,)), Case("Tensor.cummax", [(3, 4)], args=(0,)),
    Case("cumsum", [(3, 4)], kwargs={"dim": 1, "dtype": torch.float64}, dtypes=("float32",),
         pdf_fn=lambda x, dim, dtype: pdf.cumsum(x, dim, dtype=pdf.float64), id="cumsum-dtype"),
    *[Case(op, [np.array([[1, 2, 3], [4, 5, 6]], np.int32)], kwargs={"dim": 1}, grad=False,
           dtypes=("float64",), id=f"{op}-int32") for op in ("cumsum", "cumprod", "cummax")],
    Case("cumsum", [np.array([True, False, True])], kwargs={"dim": 0}, grad=False,
         dtypes=("float64",), id="cumsum-bool"),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_scans_match_torch(case, dtype, kernels):
    check(case, dtype)


@pytest.mark.parametrize("op,args", [("cumsum_fwd", (True,)), ("cumsum_fwd", (False,)),
                                     ("cumprod_fwd", ()), ("cumextreme_fwd", (True,)),
                                     ("cumextreme_fwd", (False,)), ("logcumsumexp_fwd", ())])
def test_compiled_forward_matches_reference(op, args, dtype, rng):
    assert backend._C is not None, f"compiled kernels are not loaded: {backend.info()['_C_error']}"
    x = rng.standard_normal((3, 40, 5)).astype(dtype)
    refs = {"cumsum_fwd": scan._cumsum_ref, "cumprod_fwd": scan._cumprod_ref,
            "cumextreme_fwd": scan._cumextreme_ref, "logcumsumexp_fwd": scan._logcumsumexp_ref}
    got = getattr(backend._C, op)(x, *args)
    want = refs[op](np, x, *args)
    for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple)
                    else [want]):
        np.testing.assert_allclose(g, w, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_large_scan_runs_the_parallel_path(kernels):
    x = np.random.default_rng(0).standard_normal((64, 300, 8))
    t = pdf.Tensor(x, requires_grad=True)
    y = pdf.cumsum(t, 1)
    y.backward(pdf.ones_like(y))
    np.testing.assert_allclose(y.numpy(), np.cumsum(x, 1), rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), np.arange(300, 0, -1)[None, :, None] + 0 * x)


def test_cummax_returns_a_named_pair():
    values, indices = pdf.cummax(pdf.Tensor([1.0, 3.0, 2.0]), 0)
    assert pdf.cummax(pdf.Tensor([1.0]), dim=0).indices.dtype == np.int64
    np.testing.assert_array_equal(indices.numpy(), [0, 1, 1])
    np.testing.assert_array_equal(values.numpy(), [1.0, 3.0, 3.0])


def test_bad_arguments_name_the_op():
    with pytest.raises(IndexError, match="cumsum: axis 2 is out of range"):
        pdf.cumsum(pdf.ones(2, 3), 2)
    with pytest.raises(TypeError, match="cumprod: missing the dim argument"):
        pdf.cumprod(pdf.ones(2))
    with pytest.raises(TypeError, match="logcumsumexp: expected a floating tensor"):
        pdf.logcumsumexp(pdf.Tensor([1, 2]), 0)


def test_compiled_kernels_check_their_shapes():
    assert backend._C is not None, f"compiled kernels are not loaded: {backend.info()['_C_error']}"
    with pytest.raises(ValueError, match=r"cumsum: expected an \(outer, n, inner\) array"):
        backend._C.cumsum_fwd(np.ones((2, 2)), False)
    with pytest.raises(ValueError, match="cumprod backward: expected arrays of one"):
        backend._C.cumprod_bwd(np.ones((1, 2, 3)), np.ones((1, 3, 2)))

"""relu6, hardsigmoid, hardswish, mish, selu, celu, glu, logsigmoid and softmin against
PyTorch: forward and backward, both dtypes, 0-d, empty, non-contiguous and extreme inputs."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.nn.functional as F
from op_table import Case, case_params, check

ELEMENTWISE = ["relu6", "hardsigmoid", "hardswish", "mish", "selu", "celu", "logsigmoid"]
# away from the kinks at -3, 0, 3 and 6, where one-sided derivatives may differ from torch's
WIDE = np.array([-50.0, -7.5, -2.9, -0.7, 0.4, 2.2, 4.1, 7.3, 60.0])

# torch's CPU kernels for these use the float constants 1.0f / 6.0f and 1.0f / 3.0f in every
# dtype, so its float64 results carry float32 rounding (relative 3e-8): float64 rows compare at
# that level, float32 rows at the usual one.
FLOAT_CONSTANTS = {"hardsigmoid", "hardswish"}
F64_WITH_FLOAT_CONSTANTS = dict(rtol=1e-7, atol=1e-9)


def _rows(name, **kw):
    if name not in FLOAT_CONSTANTS:
        return [Case(f"F.{name}", **kw)]
    return [Case(f"F.{name}", dtypes=("float32",), **kw),
            Case(f"F.{name}", dtypes=("float64",), tol=F64_WITH_FLOAT_CONSTANTS, **kw)]


TABLE = []
for name in ELEMENTWISE:
    TABLE += (_rows(name, shapes=[(3, 4)], low=-8, high=8)
              + _rows(name, shapes=[()], id=f"{name}-0d")
              + _rows(name, shapes=[(0, 3)], id=f"{name}-empty")
              + _rows(name, shapes=[(3, 4)], noncontig=True)
              + _rows(name, shapes=[WIDE], id=f"{name}-wide"))
TABLE += [
    Case("F.celu", [(3, 4)], kwargs=dict(alpha=0.5)),
    Case("F.celu", [(3, 4)], kwargs=dict(alpha=2.0)),
    Case("F.glu", [(3, 4)]),
    Case("F.glu", [(4, 3)], kwargs=dict(dim=0)),
    Case("F.glu", [(2, 6, 5)], kwargs=dict(dim=-2), noncontig=True),
    Case("F.softmin", [(3, 4)], kwargs=dict(dim=1)),
    Case("F.softmin", [(3, 4)], kwargs=dict(dim=-2), noncontig=True),
    Case("F.softmin", [(2, 3, 4)], kwargs=dict(dim=0)),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_activations_match_torch(case, dtype):
    check(case, dtype)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (2, 3, 4, 5)], ids=str)
def test_softmin_without_dim_picks_torchs_implicit_axis(shape, rng):
    import warnings

    import torch
    x = rng.standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's implicit-dim deprecation warning
        ref = torch.nn.functional.softmin(torch.tensor(x)).numpy()
    np.testing.assert_allclose(F.softmin(pdf.Tensor(x)).numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize("call,error,match", [
    (lambda x: F.glu(x, dim=1), ValueError, "even size, got 3"),
    (lambda x: F.glu(x, dim=2), IndexError, "out of range"),
    (lambda x: F.glu(pdf.Tensor(np.float64(1.0))), ValueError, "0-d"),
    (lambda x: F.celu(x, alpha=0.0), ValueError, "alpha must be nonzero"),
    (lambda x: F.relu6(pdf.Tensor(np.zeros(3, np.int64))), TypeError, "relu6: .*floating"),
    (lambda x: F.mish([1.0]), TypeError, "mish: expected a Tensor"),
])
def test_activations_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(pdf.Tensor(np.zeros((2, 3))))

"""F.pad in every mode against PyTorch (forward and backward, both dtypes, edge shapes) and the
gather/scatter-add pair under it against a NumPy reference."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.nn.functional as F
from op_table import Case, case_params, check
from pydyfast.ops.padding import take_along

TABLE = [
    Case("F.pad", [(2, 3, 4)], args=((1, 2),)),
    Case("F.pad", [(2, 3, 4)], args=((1, -2, 0, 3),), kwargs={"value": 1.5}),
    Case("F.pad", [(2, 3)], args=((1, 1, 2, 0),), noncontig=True),
    Case("F.pad", [(0, 3)], args=((1, 1),), id="constant-empty"),
    Case("F.pad", [()], args=((),), id="constant-0d"),
    Case("F.pad", [(2, 1, 3, 4)], args=((1, 1, 1, 1, 1, 1, 1, 1),), id="constant-all-axes"),
]
for mode in ("reflect", "replicate", "circular"):
    TABLE += [
        Case("F.pad", [(2, 3, 5)], args=((2, 1),), kwargs={"mode": mode}),
        Case("F.pad", [(3, 5)], args=((0, 3),), kwargs={"mode": mode}, id=f"{mode}-unbatched"),
        Case("F.pad", [(2, 3, 4, 5)], args=((1, 2, 3, 0),), kwargs={"mode": mode}),
        Case("F.pad", [(2, 3, 4, 5)], args=((2, -1, -1, 2),), kwargs={"mode": mode},
             id=f"{mode}-negative"),
        Case("F.pad", [(3, 4, 5)], args=((1, 1, 1, 1),), kwargs={"mode": mode},
             noncontig=True),
        Case("F.pad", [(1, 2, 3, 4, 5)], args=((1, 2, 2, 1, 1, 1),), kwargs={"mode": mode}),
        Case("F.pad", [(2, 1, 1)], args=((0, 0),), kwargs={"mode": mode}, id=f"{mode}-size-1"),
    ]
TABLE.append(Case("F.pad", [(2, 3, 2)], args=((5, 4),), kwargs={"mode": "replicate"},
                  id="replicate-wider-than-input"))


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_pad_matches_torch(case, dtype):
    check(case, dtype)


def _scatter_add_reference(g, axis, index, size):
    gx = np.zeros(g.shape[:axis] + (size,) + g.shape[axis + 1:], g.dtype)
    np.add.at(np.moveaxis(gx, axis, 0), index, np.moveaxis(g, axis, 0))
    return gx


@pytest.mark.parametrize("index", [[0, 0, 1, 3, 3, 3], [2, 0, 2, 1], [1], []], ids=str)
def test_take_along_and_its_adjoint_match_numpy(index, dtype, rng):
    x = rng.standard_normal((2, 4, 3)).astype(dtype)
    t = pdf.Tensor(x, requires_grad=True)
    y = take_along(t, 1, np.array(index, dtype=np.int64))
    np.testing.assert_array_equal(y.numpy(), np.take(x, index, axis=1))
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(pdf.Tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), _scatter_add_reference(g, 1, index, 4),
                               rtol=1e-6)
    assert t.grad.dtype == dtype


@pytest.mark.parametrize("args,kwargs,error,match", [
    (((1,),), {}, ValueError, "even number"),
    (((1, 1, 1, 1, 1, 1, 1, 1),), {}, ValueError, "only 3"),
    (((1, 1),), {"mode": "wrap"}, ValueError, "mode must be one of"),
    (((3, 0),), {"mode": "reflect"}, ValueError, r"dimension 2 \(size 3\) must be at most 2"),
    (((0, 4),), {"mode": "circular"}, ValueError, "at most 3"),
    (((1, 1, 1, 1, 1, 1),), {"mode": "reflect"}, ValueError, "needs a 4-D or 5-D input"),
    (((1, 1),), {"mode": "reflect", "value": 2.0}, ValueError, "only used by mode='constant'"),
    (((-2, -2),), {}, ValueError, "negative size"),
], ids=str)
def test_pad_rejects_bad_arguments(args, kwargs, error, match):
    x = pdf.Tensor(np.zeros((2, 2, 3)))
    with pytest.raises(error, match=match):
        F.pad(x, *args, **kwargs)


def test_pad_index_modes_need_float_and_a_tensor():
    with pytest.raises(TypeError, match="floating-point"):
        F.pad(pdf.Tensor(np.zeros((2, 3), np.int64)), (1, 1), mode="reflect")
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.pad(np.zeros((2, 3)), (1, 1))
    ints = F.pad(pdf.Tensor(np.ones((2, 3), np.int64)), (1, 0), value=7)
    assert ints.dtype == np.int64 and ints.numpy()[0, 0] == 7

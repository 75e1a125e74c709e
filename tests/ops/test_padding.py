"""F.pad in every mode against PyTorch (forward and backward, both dtypes, edge shapes, both
kernel paths) and the resampling kernel under it against a plain NumPy loop."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.nn.functional as F
from op_table import Case, case_params, check
from pydyfast.ops.padding import resample_along

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
def test_pad_matches_torch(case, dtype, kernels):
    check(case, dtype)


def _resample_loops(x, axis, index, weight):
    """y and the matrix of d y / d x along ``axis`` from plain loops: the oracle of both paths."""
    n, m = x.shape[axis], index.shape[1]
    matrix = np.zeros((m, n))
    for k in range(index.shape[0]):
        for j in range(m):
            matrix[j, index[k, j]] += weight[k, j]
    y = np.moveaxis(np.tensordot(matrix, np.moveaxis(x, axis, 0), axes=1), 0, axis)
    return y, matrix


@pytest.mark.parametrize("index,weight", [
    ([[0, 0, 1, 3, 3, 3]], None), ([[2, 0, 2, 1]], None), ([[1]], None), (np.zeros((1, 0)), None),
    ([[0, 1, 1, 3], [1, 2, 2, 3]], [[0.25, 1.0, 0.5, 0.0], [0.75, 0.0, 0.5, 1.0]]),
], ids=str)
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_resample_along_and_its_adjoint_match_loops(index, weight, axis, dtype, kernels, rng):
    x = rng.standard_normal((4, 4, 4)).astype(dtype)
    index = np.asarray(index, dtype=np.int64)
    weights = np.ones(index.shape) if weight is None else np.asarray(weight)
    t = pdf.Tensor(x, requires_grad=True)
    y = resample_along(t, axis, index, weight)
    expected, matrix = _resample_loops(x.astype(np.float64), axis, index, weights)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-6)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(pdf.Tensor(g))
    gx = np.moveaxis(np.tensordot(matrix.T, np.moveaxis(g.astype(np.float64), axis, 0), axes=1),
                     0, axis)
    np.testing.assert_allclose(t.grad.numpy(), gx, rtol=1e-6, atol=1e-6)
    assert y.dtype == dtype and t.grad.dtype == dtype


def test_resample_kernels_reject_bad_indices():
    from pydyfast import backend
    if backend._C is None:
        pytest.skip("pydyfast._C is not built")
    x = np.zeros((2, 3, 1))
    with pytest.raises(ValueError, match="resample_fwd: index 3 is out of range .* length 3"):
        backend._C.resample_fwd(x, np.array([[0, 3]]), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"resample_fwd: expected at least one tap"):
        backend._C.resample_fwd(x, np.zeros((0, 5), np.int64), np.zeros((0, 5)))
    with pytest.raises(ValueError, match="resample_bwd: expected index and weight of one shape"):
        backend._C.resample_bwd(x, np.array([[0, 1, 2]]), np.ones((2, 3)), 3)


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

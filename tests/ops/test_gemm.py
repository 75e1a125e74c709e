"""The compiled GEMM (csrc/gemm.cpp, ``pydyfast._C.gemm``) against its NumPy reference
(``ops.linalg._gemm_ref``): every transpose combination, alpha/beta/bias/relu, 3-D stacks,
shapes around the micro-tile and K-slice edges, and bad arguments."""
import numpy as np
import pytest

from pydyfast import backend
from pydyfast.ops.linalg import _gemm_ref

_C = backend.native_module()
pytestmark = pytest.mark.skipif(_C is None, reason="pydyfast._C is not built")

# M x N x K: empty axes, one element, ragged micro-tile edges (MR is 4-14 rows, NR 8-32 columns
# by instruction set), K beyond one packed slice (192-384 deep), N beyond one panel (4096).
SHAPES = [(0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1), (13, 33, 7), (29, 65, 385), (130, 70, 800),
          (3, 4100, 5)]


def _operands(rng, dtype, m, n, k, trans_a, trans_b, batch=None):
    lead = () if batch is None else (batch,)
    a = rng.standard_normal(lead + ((k, m) if trans_a else (m, k))).astype(dtype)
    b = rng.standard_normal(lead + ((n, k) if trans_b else (k, n))).astype(dtype)
    return a, b


def _tolerance(dtype, k):
    return dict(rtol=1e-4, atol=1e-4 * max(k, 1) ** 0.5) if dtype == np.float32 else \
        dict(rtol=1e-11, atol=1e-11 * max(k, 1) ** 0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_gemm_matches_reference(shape, trans_a, trans_b, dtype):
    rng = np.random.default_rng(sum(shape))
    a, b = _operands(rng, dtype, *shape, trans_a, trans_b)
    got = _C.gemm(a, b, trans_a, trans_b)
    want = _gemm_ref(np, a.astype(np.float64), b.astype(np.float64), trans_a, trans_b)
    assert got.dtype == dtype and got.shape == shape[:2]
    np.testing.assert_allclose(got, want, **_tolerance(dtype, shape[2]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 7, 3), (40, 90, 300), (4, 6, 0)],
                         ids=lambda s: "x".join(map(str, s)))
def test_bias_relu_alpha_beta(shape, dtype):
    rng = np.random.default_rng(1)
    m, n, k = shape
    a, b = _operands(rng, dtype, m, n, k, False, True)
    bias = rng.standard_normal(n).astype(dtype)
    out = rng.standard_normal((m, n)).astype(dtype)
    want = np.maximum(0.5 * (a @ b.T) + 2.0 * out + bias, 0)
    got = _C.gemm(a, b, False, True, bias=bias, relu=True, out=out, alpha=0.5, beta=2.0)
    assert got is out or np.shares_memory(got, out)
    np.testing.assert_allclose(out, want, **_tolerance(dtype, k))
    np.testing.assert_allclose(_C.gemm(a, b, False, True, bias, True),
                               _gemm_ref(np, a, b, False, True, bias, True), **_tolerance(dtype, k))


def test_beta_zero_never_reads_out():
    """As in BLAS: with beta = 0 the old contents of out (nan here) do not leak in."""
    a = np.ones((20, 30), np.float32)
    b = np.ones((30, 40), np.float32)
    out = np.full((20, 40), np.nan, np.float32)
    _C.gemm(a, b, out=out)
    np.testing.assert_array_equal(out, np.full((20, 40), 30.0, np.float32))


@pytest.mark.parametrize("batch", [1, 3, 9])
@pytest.mark.parametrize("trans", [(False, False), (True, False), (False, True)])
def test_stacks(batch, trans):
    rng = np.random.default_rng(batch)
    a, b = _operands(rng, np.float64, 17, 23, 31, *trans, batch=batch)
    np.testing.assert_allclose(_C.gemm(a, b, *trans), _gemm_ref(np, a, b, *trans), rtol=1e-12)


def test_nan_and_inf_propagate():
    a = np.array([[np.nan, 1.0], [np.inf, 0.0], [1.0, 2.0]])
    b = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(_C.gemm(a, b), a @ b)


@pytest.mark.parametrize("call,message", [
    (lambda: _C.gemm(np.ones((2, 3)), np.ones((4, 5))),
     r"gemm: op\(a\) 2x3 does not fit op\(b\) 4x5"),
    (lambda: _C.gemm(np.ones((2, 3)), np.ones((2, 3, 4))),
     r"gemm: expected a, b \(and out\) all 2-D or all 3-D"),
    (lambda: _C.gemm(np.ones((2, 2, 3)), np.ones((3, 3, 4))),
     r"gemm: op\(a\) 2x3 does not fit op\(b\) 3x4"),
    (lambda: _C.gemm(np.ones((2, 3)), np.ones((3, 4)), bias=np.ones(3)),
     r"gemm: expected bias of shape \(4,\), got \(3,\)"),
    (lambda: _C.gemm(np.ones((2, 3)), np.ones((3, 4)), out=np.ones((4, 2))),
     r"gemm: out has shape \(4, 2\), expected 2x4"),
])
def test_bad_arguments_name_the_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_mixed_dtypes_and_strided_arrays_are_refused():
    """The binding never converts: the op layer (ops.linalg.gemm) hands it C-contiguous arrays
    of one dtype, turning a transposed view into a flag rather than a copy."""
    with pytest.raises(TypeError):
        _C.gemm(np.ones((2, 3), np.float32), np.ones((3, 4)))
    with pytest.raises(TypeError):
        _C.gemm(np.ones((3, 2)).T, np.ones((3, 4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_head_views_are_copied_in_their_memory_order(dtype):
    """Attention's k^T: heads split out of (B, S, H, E) and transposed. Neither k^T nor k is
    C-contiguous; the op layer copies k (rows contiguous in memory) and passes a transpose flag,
    rather than copying k^T through a transposing gather. The product is numpy's either way."""
    from pydyfast.ops.linalg import _oriented, array_matmul
    rng = np.random.default_rng(3)
    q = rng.standard_normal((2, 3, 5, 8)).astype(dtype)
    k = rng.standard_normal((2, 5, 3, 8)).astype(dtype).transpose(0, 2, 1, 3)  # (B, H, S, E)
    k_t = k.swapaxes(-1, -2)
    array, transposed = _oriented(k_t)
    assert transposed and array.flags.c_contiguous and array.shape == k.shape
    np.testing.assert_allclose(array_matmul(q, k_t), q @ k_t, rtol=1e-5 if dtype == np.float32
                               else 1e-12)

"""Matrix products: ``a @ b`` with numpy's broadcasting rules, batched, 1-d operands included."""
import math

import numpy as np

from ..autograd import Function
from ..backend import array_module
from .elementwise import operands


def _swap_last(a):
    return a.swapaxes(-1, -2)


def _rows_matmul(xp, a, b):
    """``a @ b``; an N-d ``a`` times a 2-d ``b`` as one GEMM over a's flattened rows (numpy
    would run one small GEMM per batch slice)."""
    if b.ndim == 2 and a.ndim > 2:
        rows = math.prod(a.shape[:-1])  # not -1: reshape cannot infer it when k = 0
        return xp.matmul(a.reshape(rows, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[-1])
    return xp.matmul(a, b)


class MatMul(Function):
    """y = a @ b. Gradients: ga = gy @ b^T, gb = a^T @ gy (batch axes summed by the engine)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _rows_matmul(array_module(a), a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        xp = array_module(gy)
        # Lift 1-d operands to matrices so one formula covers every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = gy
        if b.ndim == 1:  # the product dropped the last axis of b2
            g2 = xp.expand_dims(g2, -1)
        if a.ndim == 1:  # ... and the first matrix axis of a2
            g2 = xp.expand_dims(g2, -2)
        ga = gb = None
        if need_a:
            ga = _rows_matmul(xp, g2, _swap_last(b2))
            if a.ndim == 1:  # (..., 1, k) summed over the batch back to (k,)
                ga = ga.reshape(math.prod(ga.shape[:-1]), a.shape[0]).sum(axis=0)
        if need_b and b.ndim == 2 and a.ndim > 2:
            # A weight shared across batch axes (x @ W^T in Linear): one GEMM over the flattened
            # rows, instead of a (batch, k, n) stack of products for the engine to sum.
            rows = math.prod(a.shape[:-1])
            gb = xp.matmul(_swap_last(a.reshape(rows, a.shape[-1])),
                           g2.reshape(rows, g2.shape[-1]))
        elif need_b:
            gb = xp.matmul(_swap_last(a2), g2)
            if b.ndim == 1:  # (..., k, 1) summed over the batch back to (k,)
                gb = gb.reshape(math.prod(gb.shape) // max(b.shape[0], 1), b.shape[0]).sum(axis=0)
        return ga, gb


def matmul(a, b):
    """Matrix product with numpy/PyTorch semantics (1-d operands, broadcast batch axes)."""
    a, b = operands(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: {k_a} (last "
                         f"dim of the first) != {k_b} ({'first' if b.ndim == 1 else 'second-to-last'}"
                         f" dim of the second)")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not "
                         f"broadcast") from None
    return MatMul.apply(a, b)

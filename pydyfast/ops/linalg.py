"""Matrix products: ``a @ b`` with numpy's broadcasting rules, batched, 1-d operands included."""
import math

import numpy as np

from ..autograd import Function, fresh_reshape
from ..backend import array_module, dispatch
from ..tensor import Tensor
from .elementwise import add, mul, operands, where

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "cross"]


def _swap_last(a):
    return a.swapaxes(-1, -2)


def _gemm_ref(xp, a, b, trans_a=False, trans_b=False, bias=None, relu=False):
    """Reference of ``_C.gemm``: op(a) @ op(b) (+ bias per column, then relu)."""
    y = xp.matmul(_swap_last(a) if trans_a else a, _swap_last(b) if trans_b else b)
    if bias is not None:
        y += bias
    if relu:
        xp.maximum(y, 0, out=y)
    return y


def _oriented(m):
    """(array, transposed) with op(array) == m and the array C-contiguous: a transposed view
    (``W.T``, ``k.transpose(-1, -2)``) becomes its contiguous base and a flag, not a copy. A view
    that needs a copy anyway (attention's heads, split out of a wider axis) is copied in the
    orientation whose rows are already contiguous in memory, not through a transposing copy."""
    if m.flags.c_contiguous:
        return m, False
    t = _swap_last(m)
    if t.flags.c_contiguous:
        return t, True
    xp = array_module(m)
    if m.ndim >= 2 and m.strides[-1] != m.itemsize and t.strides[-1] == t.itemsize:
        return xp.ascontiguousarray(t), True
    return xp.ascontiguousarray(m), False


def gemm(a, b, bias=None, relu=False):
    """a @ b (+ bias (n,) per column, then relu) for 2-D a, b, or 3-D stacks with one batch size.
    On the CPU, float32/float64, it runs in csrc/gemm.cpp, inside pydyfast's own OpenMP pool:
    numpy's OpenBLAS keeps a second pool whose threads spin after each product and slow the
    kernel that follows on a small machine. Transposed views cost no copy."""
    (a, ta), (b, tb) = _oriented(a), _oriented(b)
    return _gemm_oriented(a, ta, b, tb, bias, relu)


def _gemm_oriented(a, trans_a, b, trans_b, bias=None, relu=False):
    """op(a) @ op(b) (+ bias, relu) for C-contiguous a and b and their transpose flags."""
    return dispatch(a, b, ref=_gemm_ref, native="gemm", gpu=False, trans_a=trans_a,
                    trans_b=trans_b, bias=bias, relu=relu)


def array_matmul(a, b):
    """``a @ b`` on arrays with numpy's semantics, for the ops' forward and backward code. A 2-D
    ``b`` times an N-d ``a`` is one GEMM over a's flattened rows (numpy would run one small GEMM
    per batch slice); equal batch axes are one stack of GEMMs; broadcast batch axes and 1-d
    operands go to ``xp.matmul``."""
    xp = array_module(a)
    if a.ndim < 2 or b.ndim < 2:
        return xp.matmul(a, b)
    if b.ndim == 2:
        rows = math.prod(a.shape[:-1])  # not -1: reshape cannot infer it when k = 0
        return gemm(a.reshape(rows, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[-1])
    if a.shape[:-2] != b.shape[:-2]:
        return xp.matmul(a, b)
    (a, ta), (b, tb) = _oriented(a), _oriented(b)  # before the reshape, which would copy a view
    stack = math.prod(a.shape[:-2])
    y = _gemm_oriented(a.reshape(stack, *a.shape[-2:]), ta, b.reshape(stack, *b.shape[-2:]), tb)
    return y.reshape(*a.shape[:-2], *y.shape[-2:])


class MatMul(Function):
    """y = a @ b. Gradients: ga = gy @ b^T, gb = a^T @ gy (batch axes summed by the engine)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_matmul(a, b)

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
            ga = array_matmul(g2, _swap_last(b2))
            if a.ndim == 1:  # (..., 1, k) summed over the batch back to (k,); k may be 0
                ga = ga.sum(axis=tuple(range(ga.ndim - 1)))
        if need_b and b.ndim == 2 and a.ndim > 2:
            # A weight shared across batch axes (x @ W^T in Linear): one GEMM over the flattened
            # rows, instead of a (batch, k, n) stack of products for the engine to sum.
            rows = math.prod(a.shape[:-1])
            gb = gemm(_swap_last(a.reshape(rows, a.shape[-1])), g2.reshape(rows, g2.shape[-1]))
        elif need_b:
            gb = array_matmul(_swap_last(a2), g2)
            if b.ndim == 1:  # (..., k, 1) summed over the batch back to (k,); k may be 0
                gb = gb[..., 0].sum(axis=tuple(range(gb.ndim - 2)))
        return ga, gb


class Linear(Function):
    """y = x W^T + b over x's flattened rows: one GEMM with the bias added in its epilogue.
    Gradients: gx = gy W, gW = gy^T x (computed in W's own layout, so no transposed copy of a
    weight-sized array), gb = gy summed over the rows."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              weight if ctx.needs_input_grad[0] else None)
        ctx.x_shape = x.shape
        rows = math.prod(x.shape[:-1])  # not -1: reshape cannot infer it when k = 0
        y = gemm(x.reshape(rows, x.shape[-1]), _swap_last(weight), bias=bias)
        return y.reshape(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, gy):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        rows = math.prod(ctx.x_shape[:-1])
        g2 = gy.reshape(rows, gy.shape[-1])
        gx = fresh_reshape(gemm(g2, weight), ctx.x_shape) if needs[0] else None
        gw = gemm(_swap_last(g2), x.reshape(rows, x.shape[-1])) if needs[1] else None
        gb = g2.sum(axis=0) if len(needs) > 2 and needs[2] else None
        return (gx, gw, gb)[:len(needs)]


def matmul(a, b):
    """Matrix product with numpy/PyTorch semantics (1-d operands, broadcast batch axes). As in
    torch, both operands must have one dtype (no silent float64 product)."""
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da is not None and db is not None and da != db:
        raise TypeError(f"matmul: expected both operands to have the same dtype, got {da} and "
                        f"{db}; convert one with .to()")
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


def _check_ndim(op, **tensors):
    """Each keyword is (tensor, expected ndim); raise naming the op and the shapes otherwise."""
    for name, (t, ndim) in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim != ndim:
            shapes = ", ".join(f"{n} {v[0].shape}" for n, v in tensors.items())
            raise ValueError(f"{op}: expected {name} with {ndim} dimensions, got {shapes}")


def mm(input, mat2):  # noqa: A002  (torch's argument names)
    """(n, k) @ (k, m) -> (n, m), no broadcasting."""
    _check_ndim("mm", input=(input, 2), mat2=(mat2, 2))
    return matmul(input, mat2)


def bmm(input, mat2):  # noqa: A002
    """(b, n, k) @ (b, k, m) -> (b, n, m), one batch size, no broadcasting."""
    _check_ndim("bmm", input=(input, 3), mat2=(mat2, 3))
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: batch sizes differ, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def mv(input, vec):  # noqa: A002
    """(n, k) @ (k,) -> (n,)."""
    _check_ndim("mv", input=(input, 2), vec=(vec, 1))
    return matmul(input, vec)


def dot(input, other):  # noqa: A002
    """Inner product of two 1-d tensors of one length; a 0-d tensor."""
    _check_ndim("dot", input=(input, 1), other=(other, 1))
    if input.shape != other.shape:
        raise ValueError(f"dot: expected 1-d tensors of one length, got {input.shape} and "
                         f"{other.shape}")
    return matmul(input, other)


vdot = inner = dot


def outer(input, vec2):  # noqa: A002
    """(n,) and (m,) -> (n, m), ``input[i] * vec2[j]``."""
    _check_ndim("outer", input=(input, 1), vec2=(vec2, 1))
    return mul(input.reshape(-1, 1), vec2.reshape(1, -1))


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to (n, m)."""
    out = mm(mat1, mat2)
    if alpha != 1:
        out = mul(out, alpha)
    if beta == 0:  # torch ignores input's values (nan and inf included), its gradient is 0
        return add(out, where(np.zeros(np.shape(input.data), bool), input, 0)) \
            if isinstance(input, Tensor) else out
    return add(mul(input, beta) if beta != 1 else input, out)


class Cross(Function):
    """a x b along ``axis`` (size 3); ga = b x gy, gb = gy x a."""

    @staticmethod
    def forward(ctx, a, b, axis):
        ctx.save_for_backward(a, b)
        ctx.axis = axis
        return array_module(a).cross(a, b, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        xp, axis = array_module(gy), ctx.axis
        need_a, need_b = ctx.needs_input_grad
        return (xp.cross(b, gy, axis=axis) if need_a else None,
                xp.cross(gy, a, axis=axis) if need_b else None)


def cross(input, other, dim=None):  # noqa: A002
    """Cross product of 3-vectors along ``dim``, broadcasting the other dimensions. With no
    ``dim``, the first dimension of size 3 (torch.cross's default; linalg.cross uses -1)."""
    a, b = operands(input, other, "cross")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"cross: shapes {a.shape} and {b.shape} do not broadcast") from None
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dimension of size 3 in shapes {a.shape} and {b.shape}")
    axis = dim % len(shape) - len(shape) if -len(shape) <= dim < len(shape) else None
    if axis is None or any(t.ndim < -axis or t.shape[axis] != 3 for t in (a, b)):
        raise ValueError(f"cross: dim {dim} must have size 3 in both inputs, got shapes "
                         f"{a.shape} and {b.shape}")
    return Cross.apply(a, b, axis=axis)

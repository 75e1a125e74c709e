"""Tensor contractions: ``einsum`` and ``tensordot`` (tensordot is written as an einsum).

The gradient of one operand is itself an einsum of the output gradient with the other
operands, into that operand's subscripts; a letter only that operand has (summed out) is
restored by a ones vector, and a letter repeated in it (a diagonal) is written back through
numpy's writeable diagonal view.
"""
import string

import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor

__all__ = ["einsum", "tensordot"]


def _unique(subscripts):
    return "".join(dict.fromkeys(subscripts))


class Einsum(Function):
    """``np.einsum(inputs -> output)`` with explicit subscripts (no ellipsis, no implicit
    output: the public wrapper expands both)."""

    @staticmethod
    def forward(ctx, *arrays, inputs, output):
        ctx.save_for_backward(*arrays)
        ctx.subscripts, ctx.output = inputs, output  # (ctx.inputs is the engine's)
        return array_module(arrays[0]).einsum(",".join(inputs) + "->" + output, *arrays,
                                              optimize=len(arrays) > 1)

    @staticmethod
    def backward(ctx, gy):
        arrays, inputs = ctx.saved_tensors, ctx.subscripts
        xp = array_module(gy)
        grads = []
        for k, need in enumerate(ctx.needs_input_grad):
            grads.append(_operand_grad(xp, gy, ctx.output, arrays, inputs, k) if need else None)
        return tuple(grads)


def _operand_grad(xp, gy, output, arrays, inputs, k):
    target = inputs[k]
    wanted = _unique(target)
    subs, operands = [output], [gy]
    for j, (s, a) in enumerate(zip(inputs, arrays)):
        if j != k:
            subs.append(s)
            operands.append(a)
    present = set("".join(subs))
    sizes = dict(zip(target, arrays[k].shape))
    for letter in wanted:
        if letter not in present:  # summed in operand k alone: its gradient is constant there
            subs.append(letter)
            operands.append(xp.ones(sizes[letter], gy.dtype))
    g = xp.einsum(",".join(subs) + "->" + wanted, *operands, optimize=len(operands) > 2)
    if wanted == target:
        return g
    full = xp.zeros(arrays[k].shape, gy.dtype)
    xp.einsum(target + "->" + wanted, full)[...] = g  # a diagonal view of ``full``
    return full


def _expand(equation, ndims):
    """Explicit per-operand subscripts and output: '...' replaced by spare letters, the implicit
    output (letters used once, sorted) spelled out."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(f"einsum: the equation {equation!r} names {len(inputs)} operands, got "
                         f"{len(ndims)}")
    spare = [c for c in string.ascii_letters if c not in eq]
    broadcast = max([n - len(s.replace("...", "")) for s, n in zip(inputs, ndims)
                     if "..." in s] or [0])
    ellipsis = "".join(spare[:broadcast])
    expanded = []
    for s, n in zip(inputs, ndims):
        if "..." in s:
            s = s.replace("...", ellipsis[broadcast - (n - len(s) + 3):] if n - len(s) + 3 > 0
                          else "")
        if len(s) != n or not all(c in string.ascii_letters for c in s):
            raise ValueError(f"einsum: subscripts {s!r} do not fit an operand with {n} "
                             f"dimensions in {equation!r}")
        expanded.append(s)
    if arrow:
        output = rhs.replace("...", ellipsis)
    else:
        letters = "".join(expanded)
        output = ellipsis + "".join(sorted(c for c in set(letters)
                                           if letters.count(c) == 1 and c not in ellipsis))
    unknown = set(output) - set("".join(expanded))
    if unknown or len(set(output)) != len(output):
        raise ValueError(f"einsum: output subscripts {output!r} of {equation!r} must be distinct "
                         f"letters that appear in the inputs")
    return expanded, output


def einsum(equation, *operands):
    """Einstein summation, numpy's and torch's notation (``'bij,bjk->bik'``, ``'...ij->...ji'``,
    implicit output). Operands may also be passed as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands or not all(isinstance(t, Tensor) for t in operands):
        raise TypeError(f"einsum: expected Tensor operands, got "
                        f"{[type(t).__name__ for t in operands]}")
    dtypes = {t.dtype for t in operands}
    if len(dtypes) > 1:
        raise TypeError(f"einsum: expected operands of one dtype, got {sorted(map(str, dtypes))}")
    inputs, output = _expand(equation, [t.ndim for t in operands])
    sizes = {}
    for s, t in zip(inputs, operands):
        for letter, n in zip(s, t.shape):
            if sizes.setdefault(letter, n) != n and n != 1 and sizes[letter] != 1:
                raise ValueError(f"einsum: subscript {letter!r} has sizes {sizes[letter]} and {n} "
                                 f"in {equation!r} (shapes {[t.shape for t in operands]})")
    return Einsum.apply(*operands, inputs=tuple(inputs), output=output)


def tensordot(a, b, dims=2):
    """Sum over the last ``dims`` axes of ``a`` and the first ``dims`` of ``b``, or over the
    axis lists ``dims=(dims_a, dims_b)``; the free axes of a, then b."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("tensordot: expected two Tensors")
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} is out of range for shapes {a.shape} and "
                             f"{b.shape}")
        axes_a, axes_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        axes_a, axes_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: {len(axes_a)} axes of a against {len(axes_b)} of b")
    try:
        axes_a = [int(d) % a.ndim for d in axes_a] if a.ndim else list(axes_a)
        axes_b = [int(d) % b.ndim for d in axes_b] if b.ndim else list(axes_b)
    except ZeroDivisionError:
        raise ValueError("tensordot: 0-d tensors have no axes to contract") from None
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: axis {i} of a {a.shape} and axis {j} of b {b.shape} "
                             f"differ in size")
        sub_b[j] = sub_a[i]
    free = [s for i, s in enumerate(sub_a) if i not in axes_a] + \
        [s for j, s in enumerate(sub_b) if j not in axes_b]
    return einsum("".join(sub_a) + "," + "".join(sub_b) + "->" + "".join(free), a, b)

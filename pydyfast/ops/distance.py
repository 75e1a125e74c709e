"""Vector norms and the distances built on them: ``normalize``, ``cosine_similarity`` and
``pairwise_distance`` (PyTorch's ``nn.functional`` signatures).

The p-norm is one Function so that its gradient at a zero vector is 0 (the subgradient PyTorch
returns) instead of the 0 * inf = nan that sqrt/pow composites give; the rest are composites.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .elementwise import maximum
from .reduce import resolve_axes

__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]


class VectorNorm(Function):
    """n = (sum |x|^p)^(1/p) over ``axes`` (p = inf: max |x|).

    dn/dx = sign(x) |x|^(p-1) / n^(p-1), 0 where n = 0; for p = inf the gradient is shared
    equally by the entries that attain the max."""

    @staticmethod
    def forward(ctx, x, *, p, axes, keepdims):
        xp = array_module(x)
        a = xp.abs(x)
        if p == np.inf:
            n = a.max(axis=axes, keepdims=True)
        elif p == 2:
            n = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            n = (a ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, n)
        ctx.p, ctx.axes, ctx.keepdims = p, axes, keepdims
        return n if keepdims else n.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, gy):
        x, n = ctx.saved_tensors
        xp, p = array_module(x), ctx.p
        if not ctx.keepdims:
            gy = xp.expand_dims(gy, ctx.axes)
        zero = n == 0
        safe = xp.where(zero, 1, n)
        if p == np.inf:
            hits = xp.abs(x) == n
            share = hits / hits.sum(axis=ctx.axes, keepdims=True)
            return (gy * xp.sign(x) * share).astype(x.dtype, copy=False)
        if p == 2:
            scaled = x / safe
        else:
            scaled = xp.sign(x) * xp.abs(x) ** (p - 1) / safe ** (p - 1)
        return (gy * xp.where(zero, 0, scaled)).astype(x.dtype, copy=False)


def _check(op, **tensors):
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got {t.dtype}")


def vector_norm(op, x, p, dim, keepdim):
    """The p-norm of ``x`` over ``dim`` (an int or ints); p > 0 or inf."""
    if not (p == np.inf or p > 0):
        raise ValueError(f"{op}: p must be positive or inf, got {p!r}")
    axes = resolve_axes(op, x.ndim, dim=dim)
    return VectorNorm.apply(x, p=float(p), axes=axes, keepdims=bool(keepdim))


def normalize(input, p=2.0, dim=1, eps=1e-12):  # noqa: A002
    """x / max(||x||_p, eps) along ``dim``; any shape."""
    _check("normalize", input=input)
    norm = vector_norm("normalize", input, p, dim, keepdim=True)
    return input / maximum(norm, Tensor._wrap(array_module(norm.data).asarray(
        eps, dtype=input.dtype)))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` after broadcasting
    x1 and x2 (each normalized first, as PyTorch does, so large entries do not overflow)."""
    _check("cosine_similarity", x1=x1, x2=x2)
    if x1.dtype != x2.dtype:
        raise TypeError(f"cosine_similarity: x1 and x2 must share a dtype, got {x1.dtype} and "
                        f"{x2.dtype}")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"cosine_similarity: shapes {x1.shape} and {x2.shape} do not "
                         f"broadcast") from None
    if shape != x1.shape:
        x1 = x1.expand(*shape)
    if shape != x2.shape:
        x2 = x2.expand(*shape)
    n1 = vector_norm("cosine_similarity", x1, 2, dim, keepdim=True)
    n2 = vector_norm("cosine_similarity", x2, 2, dim, keepdim=True)
    n1, n2 = (_clamp_below(n, eps) for n in (n1, n2))
    return ((x1 / n1) * (x2 / n2)).sum(axis=resolve_axes("cosine_similarity", len(shape),
                                                         dim=dim))


def _clamp_below(norm, floor):
    """max(norm, floor) with the gradient of norm kept where it is clamped: PyTorch clamps its
    norms in place outside autograd, so their gradient is the identity."""
    data = norm.data
    clamped = array_module(data).maximum(data, data.dtype.type(floor))
    return norm + Tensor._wrap(clamped - data)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension (broadcast), as PyTorch."""
    _check("pairwise_distance", x1=x1, x2=x2)
    if max(x1.ndim, x2.ndim) == 0:
        raise ValueError("pairwise_distance: expected inputs with at least one dimension")
    return vector_norm("pairwise_distance", x1 - x2 + eps, p, -1, keepdim)

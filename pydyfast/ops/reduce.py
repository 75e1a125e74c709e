"""Reductions over axes (sum, mean, max, min, var, std, logsumexp, argmax, argmin).

Every reduction takes PyDyNet's ``axis=`` or PyTorch's ``dim=`` (an int, a tuple, or None for
all axes) and ``keepdims``/``keepdim``.
"""
import builtins
import collections

import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor


def resolve_axes(op, ndim, axis=None, dim=None):
    """A sorted tuple of non-negative axes, or None for all; ``axis`` and ``dim`` are synonyms.
    A 0-d tensor accepts dim 0 and -1, as in torch (given as axis 0)."""
    if axis is not None and dim is not None:
        raise TypeError(f"{op}: pass either axis= or dim=, not both")
    axis = dim if axis is None else axis
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise IndexError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axes}")
    return tuple(sorted(out))


def reduction_axes(op, ndim, axis=None, dim=None):
    """``resolve_axes`` for a reduction: over dim 0 or -1 of a 0-d tensor it reduces over
    nothing (``()``), as torch returns the value itself."""
    axes = resolve_axes(op, ndim, axis, dim)
    return () if ndim == 0 and axes is not None else axes


def _as_array(xp, value):
    # numpy reductions to 0-d give a numpy scalar; the graph holds arrays only
    return np.asarray(value) if xp is np else value


def expand_reduced(gy, shape, axes, keepdims):
    """Broadcast the gradient of a reduction back to the input's shape."""
    if not keepdims and axes is not None and shape:
        gy = gy.reshape([1 if i in axes else s for i, s in enumerate(shape)])
    return array_module(gy).broadcast_to(gy, shape)


def drop_reduced(xp, y, axes, keepdims):
    """A reduction's result computed with keepdims=True, without the reduced axes unless
    ``keepdims`` (axes None: every axis)."""
    out = y if keepdims else y.reshape([s for i, s in enumerate(y.shape)
                                        if axes is not None and i not in axes])
    return _as_array(xp, out)


def _count(shape, axes):
    return int(np.prod([shape[a] for a in axes] if axes is not None else shape, dtype=np.int64))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return _as_array(array_module(x), x.sum(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, gy):
        return expand_reduced(gy, ctx.shape, ctx.axes, ctx.keepdims)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return _as_array(array_module(x), x.mean(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, gy):
        n = _count(ctx.shape, ctx.axes)
        return expand_reduced(gy / gy.dtype.type(builtins.max(n, 1)), ctx.shape, ctx.axes, ctx.keepdims)


class Extreme(Function):
    """max or min over axes; ties share the gradient evenly (PyTorch's amax/amin rule)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, largest):
        xp = array_module(x)
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdims = axes, keepdims
        return drop_reduced(xp, y, axes, keepdims)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        mask = x == y
        count = mask.sum(axis=ctx.axes, keepdims=True).astype(gy.dtype)
        gy = expand_reduced(gy, x.shape, ctx.axes, ctx.keepdims)
        return gy * mask / count


class Var(Function):
    """Variance with ``correction`` (1: unbiased, PyTorch's default; 0: population)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, correction):
        xp = array_module(x)
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        denom = builtins.max(_count(x.shape, axes) - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = (centered * centered).sum(axis=axes, keepdims=keepdims) / x.dtype.type(denom)
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdims, ctx.denom = axes, keepdims, denom
        return _as_array(xp, y)

    @staticmethod
    def backward(ctx, gy):
        (centered,) = ctx.saved_tensors
        gy = expand_reduced(gy, centered.shape, ctx.axes, ctx.keepdims)
        with np.errstate(divide="ignore", invalid="ignore"):
            return gy * centered * (gy.dtype.type(2) / gy.dtype.type(ctx.denom))


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        xp = array_module(x)
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # rows of -inf stay -inf instead of nan
        with np.errstate(divide="ignore"):
            y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdims = axes, keepdims
        return drop_reduced(xp, y, axes, keepdims)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        gy = expand_reduced(gy, x.shape, ctx.axes, ctx.keepdims)
        return gy * array_module(x).exp(x - y)


def _reduction(op, cls, float_result=False, float_only=False):
    def f(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
        _check_tensor(op, x)
        axes = reduction_axes(op, x.ndim, axis, dim)
        if float_only and x.data.dtype.kind not in "fc":
            raise TypeError(f"{op}: could not infer the output dtype; the input must be a "
                            f"floating-point tensor, got {x.dtype} (convert it with .float())")
        if float_result and x.data.dtype.kind not in "fc":
            x = x.float()
        return cls.apply(x, axes=axes, keepdims=bool(keepdims or keepdim))
    f.__name__ = op
    return f


def _check_tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


sum = _reduction("sum", Sum)  # noqa: A001
# torch refuses the mean of an integer or bool tensor; pydyfast gives it in the default float
# dtype instead, because PyDyNet (and NumPy) programs rely on it (`pred.eq(label).mean()` as an
# accuracy) and no working PyTorch program can depend on the error.
mean = _reduction("mean", Mean, float_result=True)
logsumexp = _reduction("logsumexp", LogSumExp, float_result=True)
sum.__doc__ = "Sum over ``axis``/``dim`` (all axes when None)."
mean.__doc__ = ("Mean over ``axis``/``dim`` (all axes when None); an integer or bool tensor's mean "
                "is a float tensor of the default dtype (PyTorch raises there).")
logsumexp.__doc__ = "log(sum(exp(x))) over ``axis``/``dim``, computed stably (max-subtracted)."


class ValuesIndices(collections.namedtuple("ValuesIndices", ["values", "indices"])):
    """What ``max``/``min``/``median`` return with a ``dim``, as torch's ``return_types``:
    ``values`` (differentiable) and ``indices`` (int64), by name or by unpacking."""

    __slots__ = ()


def _pick_max(xp, x, axis):
    return xp.expand_dims(x.argmax(axis=axis), axis)


def _pick_min(xp, x, axis):
    return xp.expand_dims(x.argmin(axis=axis), axis)


def _pick_median(xp, x, axis):
    """The lower median's position, as torch takes it (the smaller middle for an even count)."""
    # stable, so that equal values keep their order (cupy's sort is stable without the flag)
    order = xp.argsort(x, axis=axis, kind="stable") if xp is np else xp.argsort(x, axis=axis)
    return xp.take(order, [(x.shape[axis] - 1) // 2], axis=axis)


class SelectAlong(Function):
    """The element that ``pick`` chooses along ``axis`` and its int64 index. As torch's
    ``max(dim)`` does, the whole gradient goes to the chosen element (ties are not shared)."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, pick):
        xp = array_module(x)
        idx = pick(xp, x, axis).astype(np.int64)
        values = xp.take_along_axis(x, idx, axis=axis)
        ctx.shape, ctx.axis, ctx.keepdim, ctx.idx = x.shape, axis, keepdim, idx
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx

    @staticmethod
    def backward(ctx, gv, gi):
        xp = array_module(gv)
        if not ctx.keepdim:
            gv = xp.expand_dims(gv, ctx.axis)
        n = ctx.shape[ctx.axis]
        positions = xp.arange(n).reshape([n if i == ctx.axis else 1 for i in range(len(ctx.shape))])
        return xp.broadcast_to((positions == ctx.idx) * gv, ctx.shape)


def _select(op, x, dim, keepdim, pick):
    if x.ndim == 0:  # torch accepts dim 0/-1 of a 0-d tensor: the value and index 0
        resolve_axes(op, 0, dim)
        values, indices = SelectAlong.apply(x.reshape(1), axis=0, keepdim=False, pick=pick)
        return ValuesIndices(values, indices)
    a = resolve_axes(op, x.ndim, dim)
    if len(a) != 1:
        raise TypeError(f"{op}: dim must be a single int, got {dim!r}")
    if x.shape[a[0]] == 0:
        raise IndexError(f"{op}: cannot reduce dim {dim} of size 0 (tensor of shape {x.shape})")
    return ValuesIndices(*SelectAlong.apply(x, axis=a[0], keepdim=bool(keepdim), pick=pick))


def _extreme(op, largest):
    pick = _pick_max if largest else _pick_min

    def f(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
        _check_tensor(op, x)
        if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
            from .elementwise import maximum, minimum
            return (maximum if largest else minimum)(x, dim)
        if dim is not None:
            if axis is not None:
                raise TypeError(f"{op}: pass either axis= or dim=, not both")
            return _select(op, x, dim, keepdim, pick)
        return _amax_amin(op, x, axis, keepdims or keepdim, largest)
    f.__name__ = op
    f.__doc__ = (f"The {'largest' if largest else 'smallest'} value of ``x``.\n\n"
                 f"As torch: ``{op}(x)`` is a 0-d tensor (ties share the gradient); "
                 f"``{op}(x, dim)`` and ``x.{op}(dim=d)`` return the named tuple "
                 f"``(values, indices)`` and the "
                 f"gradient goes to the chosen element; ``{op}(x, y)`` with a tensor ``y`` is the "
                 f"elementwise {'maximum' if largest else 'minimum'}. The numpy/PyDyNet keyword "
                 f"``axis=`` (int or tuple) returns the values only, as ``a{op}`` does.")
    return f


def _amax_amin(op, x, axis, keepdims, largest):
    if x.data.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
    axes = reduction_axes(op, x.ndim, axis)
    return Extreme.apply(x, axes=axes, keepdims=bool(keepdims), largest=largest)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """Largest values over ``dim``/``axis`` (an int, a tuple or None); ties share the gradient."""
    _check_tensor("amax", x)
    return _amax_amin("amax", x, dim if axis is None else axis, keepdim or keepdims, True)


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """Smallest values over ``dim``/``axis`` (an int, a tuple or None); ties share the gradient."""
    _check_tensor("amin", x)
    return _amax_amin("amin", x, dim if axis is None else axis, keepdim or keepdims, False)


def median(x, dim=None, keepdim=False):
    """torch's median: the lower median (the smaller middle value for an even count).
    ``median(x)`` is a 0-d tensor; ``median(x, dim)`` the named tuple ``(values, indices)``.
    The gradient goes to the chosen element."""
    _check_tensor("median", x)
    if dim is not None:
        return _select("median", x, dim, keepdim, _pick_median)
    if x.data.size == 0:
        raise ValueError(f"median: cannot take the median of an empty tensor of shape {x.shape}")
    return SelectAlong.apply(x.reshape(-1), axis=0, keepdim=False, pick=_pick_median)[0]


max = _extreme("max", True)  # noqa: A001
min = _extreme("min", False)  # noqa: A001


def var(x, axis=None, keepdims=False, *, dim=None, keepdim=None, unbiased=None, correction=None):
    """Variance over ``axis``/``dim``. PyTorch's default is unbiased (``correction=1``);
    pass ``unbiased=False`` or ``correction=0`` for numpy's population variance."""
    _check_tensor("var", x)
    if unbiased is not None and correction is not None:
        raise TypeError("var: pass either unbiased= or correction=, not both")
    c = 1 if unbiased is None and correction is None else (
        int(unbiased) if unbiased is not None else int(correction))
    if x.data.dtype.kind not in "fc":
        x = x.float()
    axes = reduction_axes("var", x.ndim, axis, dim)
    return Var.apply(x, axes=axes, keepdims=bool(keepdims or keepdim), correction=c)


def std(x, axis=None, keepdims=False, *, dim=None, keepdim=None, unbiased=None, correction=None):
    """Standard deviation: ``sqrt(var(...))`` with the same arguments."""
    from .elementwise import sqrt
    return sqrt(var(x, axis, keepdims, dim=dim, keepdim=keepdim, unbiased=unbiased,
                    correction=correction))


def _arg(op, largest):
    def f(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
        _check_tensor(op, x)
        if x.data.size == 0:
            raise ValueError(f"{op}: cannot take {op} of an empty tensor of shape {x.shape}")
        axes = resolve_axes(op, x.ndim, axis, dim) if x.ndim else None  # 0-d: index 0
        if axes is not None and len(axes) != 1:
            raise ValueError(f"{op}: expected a single axis, got {axes}")
        keep = bool(keepdims or keepdim)
        a = None if axes is None else axes[0]
        xp = array_module(x.data)
        idx = x.data.argmax(axis=a) if largest else x.data.argmin(axis=a)
        idx = xp.asarray(idx, dtype=np.int64)
        if keep:
            idx = idx.reshape([1] * x.ndim) if a is None else xp.expand_dims(idx, a)
        return Tensor._wrap(idx)
    f.__name__ = op
    f.__doc__ = f"Indices (int64) of the {'largest' if largest else 'smallest'} values; no grad."
    return f


argmax = _arg("argmax", True)
argmin = _arg("argmin", False)

"""Rearranging elements: triangles and diagonals (tril, triu, diag, diagonal, trace), flip,
roll, repetition (repeat, tile, repeat_interleave), meshgrid, narrow, movedim.

Each is linear in its input, so one ``Linear`` Function carries them all: forward applies the
map, backward its adjoint (tril's is tril, flip's is flip, roll's is the opposite roll, a
repetition's sums the copies). Ops that are compositions (trace, narrow, movedim, meshgrid) use
the existing ones and need no backward of their own.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .reduce import resolve_axes
from .scan import one_axis

__all__ = ["tril", "triu", "diag", "diagonal", "trace", "flip", "fliplr", "flipud", "roll",
           "repeat", "tile", "repeat_interleave", "meshgrid", "narrow", "movedim", "moveaxis"]


class Linear(Function):
    """y = apply(xp, x); the gradient is adjoint(xp, gy), the transposed map."""

    @staticmethod
    def forward(ctx, x, apply, adjoint):
        ctx.adjoint = adjoint
        return apply(array_module(x), x)

    @staticmethod
    def backward(ctx, gy):
        return ctx.adjoint(array_module(gy), gy)


def _linear(x, apply, adjoint):
    """Run a linear map; integer and bool tensors skip the graph (they have no gradient)."""
    if x.data.dtype.kind not in "fc":
        return Tensor._wrap(apply(array_module(x.data), x.data))
    return Linear.apply(x, apply=apply, adjoint=adjoint)


def _check(op, x, min_ndim=0):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.ndim < min_ndim:
        raise ValueError(f"{op}: expected at least {min_ndim} dimensions, got shape {x.shape}")


def _triangle(op, keep_lower):
    def f(input, diagonal=0):  # noqa: A002  (torch's argument names)
        _check(op, input, 2)

        def mask(xp, a):
            return xp.tril(a, diagonal) if keep_lower else xp.triu(a, diagonal)
        return _linear(input, mask, mask)
    f.__name__ = op
    f.__doc__ = (f"The {'lower' if keep_lower else 'upper'} triangle of the last two "
                 f"dimensions from ``diagonal`` (0: the main one), the rest zeroed.")
    return f


tril = _triangle("tril", True)
triu = _triangle("triu", False)


def _diagonal_index(shape, offset, axis1, axis2):
    """Row and column indices of the diagonal ``offset`` of the (axis1, axis2) plane."""
    rows, cols = shape[axis1], shape[axis2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    r = np.arange(length) - min(offset, 0)
    return r, r + offset


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002
    """The diagonal ``offset`` of the (dim1, dim2) planes, as the last dimension (torch's
    layout); a copy, differentiable."""
    _check("diagonal", input, 2)
    a1, a2 = (one_axis("diagonal", input.ndim, d) for d in (dim1, dim2))
    if a1 == a2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    shape = input.shape
    rows, cols = _diagonal_index(shape, offset, a1, a2)

    def extract(xp, a):
        moved = xp.moveaxis(a, (a1, a2), (-2, -1))
        return moved[..., xp.asarray(rows), xp.asarray(cols)]

    def embed(xp, g):
        full = xp.zeros(tuple(s for i, s in enumerate(shape) if i not in (a1, a2)) +
                        (shape[a1], shape[a2]), g.dtype)
        full[..., xp.asarray(rows), xp.asarray(cols)] = g
        return xp.moveaxis(full, (-2, -1), (a1, a2))
    return _linear(input, extract, embed)


def diag(input, diagonal=0):  # noqa: A002
    """A 1-d tensor: the square matrix with it on diagonal ``diagonal``; a 2-d tensor: its
    diagonal ``diagonal``."""
    _check("diag", input)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    if input.ndim != 1:
        raise ValueError(f"diag: expected a 1-d or 2-d tensor, got shape {input.shape}")
    n = input.shape[0]
    return _linear(input, lambda xp, a: xp.diag(a, diagonal),
                   lambda xp, g: xp.diagonal(g, diagonal)[:n].copy())


def trace(input):  # noqa: A002
    """Sum of the main diagonal of a 2-d tensor."""
    _check("trace", input)
    if input.ndim != 2:
        raise ValueError(f"trace: expected a 2-d tensor, got shape {input.shape}")
    return diagonal(input).sum()


def flip(input, dims):  # noqa: A002
    """Reverse the order along each of ``dims``."""
    _check("flip", input)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    axes = resolve_axes("flip", input.ndim, dims) if dims else ()

    def reverse(xp, a):
        return xp.flip(a, axes).copy() if axes and a.ndim else a.copy()
    return _linear(input, reverse, reverse)


def fliplr(input):  # noqa: A002
    _check("fliplr", input, 2)
    return flip(input, 1)


def flipud(input):  # noqa: A002
    _check("flipud", input, 1)
    return flip(input, 0)


def roll(input, shifts, dims=None):  # noqa: A002
    """Shift elements cyclically by ``shifts`` along ``dims`` (the flattened tensor when
    ``dims`` is None)."""
    _check("roll", input)
    single = isinstance(shifts, (int, np.integer))
    shifts = (int(shifts),) if single else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one number, got {shifts}")
        axes = None
    else:
        dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(dims) != len(shifts):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
        axes = tuple(one_axis("roll", input.ndim, d) for d in dims)
    shift = shifts[0] if axes is None else shifts
    back = -shifts[0] if axes is None else tuple(-s for s in shifts)
    return _linear(input, lambda xp, a: xp.roll(a, shift, axes),
                   lambda xp, g: xp.roll(g, back, axes))


def _sizes(op, sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    if any(s < 0 for s in sizes):
        raise ValueError(f"{op}: repeats must be non-negative, got {sizes}")
    return sizes


def _tiled(x, reps):
    """``x`` repeated ``reps`` times per dimension (len(reps) >= x.ndim); the gradient sums
    the copies."""
    lead = len(reps) - x.ndim
    shape = (1,) * lead + x.shape

    def apply(xp, a):
        return xp.tile(a.reshape(shape), reps)

    def adjoint(xp, g):
        split = []
        for r, s in zip(reps, shape):
            split += [r, s]
        return g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(x.shape)
    return _linear(x, apply, adjoint)


def repeat(input, *sizes):  # noqa: A002
    """torch's Tensor.repeat: the tensor tiled ``sizes`` times per dimension (numpy's tile);
    ``sizes`` may add leading dimensions but not drop any."""
    _check("repeat", input)
    sizes = _sizes("repeat", sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: {len(sizes)} repeat counts for a tensor with {input.ndim} "
                         f"dimensions (shape {input.shape}); give at least one per dimension")
    return _tiled(input, sizes)


def tile(input, dims):  # noqa: A002
    """torch.tile: like repeat, and fewer ``dims`` than dimensions are padded with 1s."""
    _check("tile", input)
    dims = _sizes("tile", (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims))
    return _tiled(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats, dim=None, *, output_size=None):  # noqa: A002
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place: an int, or a
    1-d tensor with one count per slice. Without ``dim`` the tensor is flattened first."""
    _check("repeat_interleave", input)
    x = input.reshape(-1) if dim is None else input
    axis = 0 if dim is None else one_axis("repeat_interleave", x.ndim, dim)
    n = x.shape[axis] if x.ndim else 1
    counts = repeats.numpy() if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts.ndim == 1 and
                                                           counts.size not in (1, n)):
        raise ValueError(f"repeat_interleave: repeats must be an int or a 1-d integer tensor "
                         f"with one count per element ({n}), got {counts.dtype} of shape "
                         f"{counts.shape}")
    if (counts < 0).any():
        raise ValueError("repeat_interleave: repeats must be non-negative")
    counts = np.broadcast_to(counts.reshape(-1), (n,)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    nonempty = counts > 0

    def apply(xp, a):
        return xp.repeat(a, xp.asarray(counts), axis=axis)

    def adjoint(xp, g):
        out = xp.zeros(x.shape, g.dtype)
        if nonempty.any():
            sums = xp.add.reduceat(g, xp.asarray(starts[nonempty]), axis=axis)
            where = (slice(None),) * axis + (xp.asarray(np.flatnonzero(nonempty)),)
            out[where] = sums
        return out
    return _linear(x, apply, adjoint)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-d tensors: 'ij' (torch's default) gives shape (n1, n2, ...),
    'xy' swaps the first two. Differentiable (broadcast views)."""
    from .shape import broadcast_to
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        _check("meshgrid", t)
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0-d or 1-d tensors, got shape {t.shape}")
    sizes = [t.numel() for t in tensors]
    if indexing == "xy" and len(tensors) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, t in enumerate(tensors):
        place = i if indexing == "ij" or len(tensors) < 2 or i > 1 else 1 - i
        shape = [1] * len(tensors)
        shape[place] = -1
        grids.append(broadcast_to(t.reshape(shape), tuple(sizes)))
    return tuple(grids)


def narrow(input, dim, start, length):  # noqa: A002
    """The slice ``start : start + length`` along ``dim`` (``start`` may be negative)."""
    from .index import getitem
    _check("narrow", input, 1)
    axis = one_axis("narrow", input.ndim, dim)
    n = input.shape[axis]
    start = int(start)
    if not -n <= start <= n or length < 0 or start % max(n, 1) + length > n:
        raise ValueError(f"narrow: start {start} and length {length} do not fit dimension "
                         f"{axis} of size {n} (shape {input.shape})")
    start = start + n if start < 0 else start
    return getitem(input, (slice(None),) * axis + (slice(start, start + length),))


def movedim(input, source, destination):  # noqa: A002
    """Move dimensions ``source`` to positions ``destination``, the rest keeping their order."""
    from .shape import permute
    _check("movedim", input)
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: {len(src)} source dims for {len(dst)} destinations")
    src_axes = [one_axis("movedim", input.ndim, s) for s in src]
    dst_axes = [one_axis("movedim", input.ndim, d) for d in dst]
    if len(set(src_axes)) != len(src_axes) or len(set(dst_axes)) != len(dst_axes):
        raise ValueError(f"movedim: repeated dims in source {source} or destination "
                         f"{destination}")
    rest = iter([a for a in range(input.ndim) if a not in src_axes])
    placed = dict(zip(dst_axes, src_axes))
    order = [placed[i] if i in placed else next(rest) for i in range(input.ndim)]
    return permute(input, *order) if input.ndim else input


moveaxis = movedim

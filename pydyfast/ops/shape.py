"""Shape and layout operations, joining and splitting, dtype and device moves."""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..backend import engine as _engine
from ..cuda import device_of
from ..cuda import to_device as _move
from ..tensor import Tensor
from .reduce import resolve_axes


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return gy.reshape(ctx.shape)


def _shape_args(op, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be integers, got {shape!r}") from None


def _target_shape(op, old, new):
    """``new`` with a -1 filled in, checked against the element count of ``old``."""
    size = int(np.prod(old, dtype=np.int64))
    unknown = [i for i, s in enumerate(new) if s == -1]
    known = int(np.prod([s for s in new if s != -1], dtype=np.int64))
    bad = len(unknown) > 1 or any(s < -1 for s in new)
    if unknown and not bad:
        bad = known == 0 or size % known != 0
        new = tuple(size // known if s == -1 else s for s in new) if not bad else new
    if bad or int(np.prod(new, dtype=np.int64)) != size:
        raise ValueError(f"{op}: cannot reshape a tensor of shape {old} ({size} elements) into "
                         f"shape {new}")
    return new


def reshape(x, *shape):
    """Same data in a new shape; one dimension may be -1 (inferred)."""
    shape = _target_shape("reshape", x.shape, _shape_args("reshape", shape))
    if shape == x.shape:
        return x
    return _engine.mark_view(Reshape.apply(x, shape=shape), x)


view = reshape


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim into one (PyTorch's flatten)."""
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = resolve_axes("flatten", x.ndim, start_dim), resolve_axes("flatten", x.ndim, end_dim)
    s, e = s[0], e[0]
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1], dtype=np.int64)),) + x.shape[e + 1:]
    return reshape(x, shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, gy):
        return gy.transpose(ctx.inverse)


def permute(x, *axes):
    """Reorder the dimensions (numpy's transpose with axes)."""
    axes = _shape_args("permute", axes)
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {axes} is not a permutation of the {x.ndim} dimensions of a "
                         f"tensor of shape {x.shape}")
    return _engine.mark_view(Permute.apply(x, axes=tuple(a % x.ndim for a in axes)), x)


def transpose(x, *axes):
    """``transpose()`` reverses the dimensions (numpy); ``transpose(dim0, dim1)`` swaps two
    (PyTorch); ``transpose(axes)`` or three or more axes permute (numpy)."""
    if not axes:
        return permute(x, *range(x.ndim - 1, -1, -1))
    if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
        return swapaxes(x, *axes)
    return permute(x, *axes)


def swapaxes(x, axis0, axis1):
    a0 = resolve_axes("swapaxes", x.ndim, axis0)[0]
    a1 = resolve_axes("swapaxes", x.ndim, axis1)[0]
    order = list(range(x.ndim))
    order[a0], order[a1] = order[a1], order[a0]
    return _engine.mark_view(Permute.apply(x, axes=tuple(order)), x)


def squeeze(x, axis=None, *, dim=None):
    """Drop size-1 dimensions (all of them, or the given ones that have size 1)."""
    axes = resolve_axes("squeeze", x.ndim, axis, dim)
    if axes is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1)))


def unsqueeze(x, axis=None, *, dim=None):
    """Insert a size-1 dimension at ``axis``/``dim`` (negative counts from the new end); a tuple
    inserts one at each position of the result, as ``np.expand_dims`` and PyDyNet do."""
    a = dim if axis is None else axis
    if a is None:
        raise TypeError("unsqueeze: missing the axis/dim argument")
    axes = tuple(a) if isinstance(a, (tuple, list)) else (a,)
    n = x.ndim + len(axes)
    for b in axes:
        if not -n <= b < n:
            raise IndexError(f"unsqueeze: dim {b} is out of range for a result with {n} "
                             f"dimensions")
    positions = {b % n for b in axes}
    if len(positions) != len(axes):
        raise ValueError(f"unsqueeze: repeated dim in {a} for a result with {n} dimensions")
    sizes = iter(x.shape)
    return reshape(x, tuple(1 if i in positions else next(sizes) for i in range(n)))


class BroadcastTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        return array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return gy  # the engine sums it back to the input's shape


def broadcast_to(x, *shape):
    shape = _shape_args("broadcast_to", shape)
    try:
        np.broadcast_shapes(x.shape, shape)
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return _engine.mark_view(BroadcastTo.apply(x, shape=shape), x)


def expand(x, *shape):
    """PyTorch's expand: like broadcast_to, and -1 keeps a dimension's size."""
    shape = _shape_args("expand", shape)
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    return broadcast_to(x, shape)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return array_module(arrays[0]).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        return tuple(xp.split(gy, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return array_module(arrays[0]).stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        return tuple(xp.squeeze(g, ctx.axis) for g in xp.split(gy, gy.shape[ctx.axis], ctx.axis))


def _joinable(op, tensors):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{op}: expected a sequence of Tensors")
    devices = {str(t.device) for t in tensors}
    if len(devices) > 1:
        raise RuntimeError(f"{op}: expected all tensors on the same device, got {sorted(devices)}")
    return tensors


def concatenate(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis (PyTorch's cat)."""
    tensors = _joinable("concatenate", tensors)
    a = resolve_axes("concatenate", tensors[0].ndim, axis if dim is None else dim)[0]
    ref = tensors[0].shape
    for t in tensors:
        if t.ndim != len(ref) or any(s != r for i, (s, r) in enumerate(zip(t.shape, ref)) if i != a):
            raise ValueError(f"concatenate: shapes {[t.shape for t in tensors]} differ outside "
                             f"axis {a}")
    return Concatenate.apply(*tensors, axis=a)


cat = concatenate


def stack(tensors, axis=0, *, dim=None):
    """Join equally shaped tensors along a new axis."""
    tensors = _joinable("stack", tensors)
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: expected tensors of one shape, got {sorted(shapes)}")
    a = axis if dim is None else dim
    n = tensors[0].ndim + 1
    if not -n <= a < n:
        raise IndexError(f"stack: axis {a} is out of range for a result with {n} dimensions")
    return Stack.apply(*tensors, axis=a % n)


class Split(Function):
    @staticmethod
    def forward(ctx, x, bounds, axis):
        ctx.axis = axis
        return tuple(array_module(x).split(x, bounds, axis=axis))

    @staticmethod
    def backward(ctx, *grads):
        return array_module(grads[0]).concatenate(grads, axis=ctx.axis)


def _split_at(x, bounds, a):
    """The pieces of ``x`` between the cut points ``bounds`` along axis ``a``: views of x."""
    return tuple(_engine.mark_view(p, x) for p in Split.apply(x, bounds=list(bounds), axis=a))


def _dim(op, x, dim):
    return resolve_axes(op, x.ndim, dim)[0] if x.ndim else 0


def split(x, split_size_or_sections, dim=0, *, axis=None):
    """torch's split: an int is the size of each piece (the last may be smaller), a list gives
    the sizes of the pieces (they must add up to the dimension). Returns a tuple of views.

    With the numpy/PyDyNet keyword ``axis=`` it is numpy's split instead: an int is the number
    of equal pieces (an error if the axis does not divide), a list gives the cut points, and
    the result is a list."""
    if axis is not None:
        return _numpy_split(x, split_size_or_sections, axis)
    a = _dim("split", x, dim)
    n = x.shape[a]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise ValueError(f"split: split_size must be positive, got {size}")
        return _split_at(x, range(size, n, size) if size else [], a)
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {n}, the "
                         f"size of dim {a} of a tensor of shape {x.shape}")
    return _split_at(x, np.cumsum(sizes)[:-1], a)


def _numpy_split(x, indices_or_sections, axis):
    a = _dim("split", x, axis)
    n = x.shape[a]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: axis {a} of size {n} cannot be split into {k} equal parts")
        return list(_split_at(x, [n // k * i for i in range(1, k)], a))
    return list(_split_at(x, [int(b) for b in indices_or_sections], a))


def chunk(x, chunks, dim=0):
    """torch's chunk: pieces of ``ceil(size / chunks)`` along ``dim`` (fewer pieces when the
    size runs out first)."""
    if int(chunks) <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_dim("chunk", x, dim)] if x.ndim else 1
    return split(x, max(-(-n // int(chunks)), 1), dim)


def tensor_split(x, indices_or_sections, dim=0):
    """torch's tensor_split: an int ``k`` gives k pieces whose sizes differ by at most one (the
    first ``size % k`` are larger); a list gives the cut points."""
    a = _dim("tensor_split", x, dim)
    n = x.shape[a]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got {k}")
        small, extra = divmod(n, k)
        return _split_at(x, np.cumsum([small + (i < extra) for i in range(k)])[:-1], a)
    return _split_at(x, [int(b) for b in indices_or_sections], a)


class Unbind(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return tuple(array_module(x).moveaxis(x, axis, 0))

    @staticmethod
    def backward(ctx, *grads):
        return array_module(grads[0]).stack(grads, axis=ctx.axis)


def unbind(x, dim=0):
    """The slices of ``x`` along ``dim``, with that dimension removed (views of x)."""
    if x.ndim == 0:
        raise IndexError("unbind: a 0-d tensor has no dimension to unbind")
    a = _dim("unbind", x, dim)
    if x.shape[a] == 0:
        return ()
    return tuple(_engine.mark_view(p, x) for p in Unbind.apply(x, axis=a))


def vsplit(x, indices_or_sections):
    return _numpy_split(x, indices_or_sections, 0)


def hsplit(x, indices_or_sections):
    return _numpy_split(x, indices_or_sections, 1 if x.ndim > 1 else 0)


def dsplit(x, indices_or_sections):
    if x.ndim < 3:
        raise ValueError(f"dsplit: needs at least 3 dimensions, got shape {x.shape}")
    return _numpy_split(x, indices_or_sections, 2)


class AsType(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy.astype(ctx.dtype) if ctx.dtype.kind in "fc" else None


def astype(x, dtype):
    dtype = np.dtype(dtype)
    if x.requires_grad and dtype.kind not in "fc":
        return Tensor._wrap(x.data.astype(dtype))  # an integer copy carries no gradient
    return AsType.apply(x, dtype=dtype)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.source = device_of(x)
        return _move(x, device)

    @staticmethod
    def backward(ctx, gy):
        return _move(gy, ctx.source)


def to_device(x, device):
    return ToDevice.apply(x, device=device)


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy


def clone(x):
    return Clone.apply(x)

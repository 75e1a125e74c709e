"""Tensor plumbing methods as torch has them: layout (contiguous, clone(memory_format=), t),
shape and dtype borrowed from another tensor (view_as, expand_as, type_as), ``view(dtype)`` and
the ``new_*`` factories that take this tensor's dtype and device.

Each is a composition of existing ops, so gradients need no code of their own.
"""
import numpy as np

from . import creation, dtypes
from .backend import engine as _engine
from .ops import random, shape as S
from .tensor import Tensor

__all__ = ["memory_format", "contiguous_format", "preserve_format", "channels_last"]


class memory_format:  # noqa: N801  (torch's spelling: torch.memory_format)
    """A layout request for ``clone``/``contiguous`` (``pydyfast.contiguous_format`` ...)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"pydyfast.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")


def _strides_order(x):
    """The axes of ``x`` from the largest stride to the smallest (its memory order)."""
    strides = x.data.strides
    return sorted(range(x.ndim), key=lambda axis: -abs(strides[axis]))


def _copy_in_order(x, order):
    """A differentiable copy of ``x`` laid out in memory with axes in ``order`` (outer first)."""
    if list(order) == list(range(x.ndim)):
        return S.clone(x)
    inverse = np.argsort(order).tolist()
    return S.clone(x.permute(*order)).permute(*inverse)


def _channels_last_order(op, x):
    if x.ndim != 4:
        raise RuntimeError(f"{op}: channels_last needs a 4-d (N, C, H, W) tensor, got shape "
                           f"{x.shape}")
    return [0, 2, 3, 1]


def _format_order(op, x, fmt):
    """The axis order that memory format ``fmt`` asks for, or None for C order."""
    if fmt is None or fmt is preserve_format:
        return _strides_order(x)
    if fmt is contiguous_format:
        return None
    if fmt is channels_last:
        return _channels_last_order(op, x)
    raise TypeError(f"{op}: memory_format must be pydyfast.contiguous_format, preserve_format "
                    f"or channels_last, got {fmt!r}")


def clone(self, *, memory_format=None):
    """A copy that autograd tracks. The copy keeps this tensor's memory layout
    (``preserve_format``, the default) unless ``memory_format`` asks for another."""
    order = _format_order("clone", self, memory_format)
    return S.clone(self) if order is None else _copy_in_order(self, order)


def is_contiguous(self, memory_format=contiguous_format):
    """Whether the data is laid out in C order (or NHWC for ``channels_last``)."""
    if memory_format is channels_last:
        order = _channels_last_order("is_contiguous", self)
        return bool(self.data.transpose(order).flags.c_contiguous)
    return bool(self.data.flags.c_contiguous)


def contiguous(self, memory_format=contiguous_format):
    """This tensor if already laid out as ``memory_format`` asks, else a tracked copy that is."""
    if self.is_contiguous(memory_format):
        return self
    if memory_format is channels_last:
        return _copy_in_order(self, _channels_last_order("contiguous", self))
    return S.clone(self)


def t(self):
    """Transpose a tensor of at most 2 dimensions (0-d and 1-d come back unchanged)."""
    if self.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{self.ndim}D (shape {self.shape}); use transpose(dim0, dim1)")
    return self if self.ndim < 2 else self.permute(1, 0)


def _other(op, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(other).__name__}")
    return other


def view_as(self, other):
    return S.view(self, _other("view_as", other).shape)


def reshape_as(self, other):
    return S.reshape(self, _other("reshape_as", other).shape)


def expand_as(self, other):
    return S.expand(self, _other("expand_as", other).shape)


def type_as(self, other):
    """This tensor cast to ``other``'s dtype (differentiable between floating dtypes)."""
    return self.to(dtype=_other("type_as", other).dtype)


def _is_dtype(arg):
    return isinstance(arg, np.dtype) or (isinstance(arg, type) and issubclass(arg, np.generic))


def view(self, *shape):
    """``view(*shape)``: the same data in a new shape; ``view(dtype)``: the same bytes read as
    another dtype (torch's bit view: the last dimension scales by the ratio of element sizes,
    the result is cut out of the graph)."""
    if len(shape) == 1 and _is_dtype(shape[0]):
        return _bit_view(self, np.dtype(shape[0]))
    return S.view(self, *shape)


def _bit_view(x, dtype):
    old, new = x.dtype.itemsize, dtype.itemsize
    if old != new:
        if x.ndim == 0:
            raise RuntimeError(f"view({dtype}): a 0-d tensor of {x.dtype} cannot be viewed as "
                               f"a dtype of another element size")
        if x.data.strides[-1] != old and x.shape[-1] != 1:
            raise RuntimeError(f"view({dtype}): the last dimension must be contiguous (stride "
                               f"1) to view {x.dtype} as {dtype} (different element sizes), "
                               f"got shape {x.shape} with strides {x.data.strides}")
        if new > old and (x.shape[-1] * old) % new:
            raise RuntimeError(f"view({dtype}): the last dimension ({x.shape[-1]}) must be "
                               f"divisible by {new // old} to view {x.dtype} as {dtype}")
    return _engine.mark_view(Tensor._wrap(x.data.view(dtype)), x)  # shares x's version


def _factory_kwargs(self, dtype, device):
    return {"dtype": dtype if dtype is not None else self.dtype,
            "device": device if device is not None else self.device}


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    """Zeros of ``size`` with this tensor's dtype and device unless given."""
    return creation.zeros(*size, requires_grad=requires_grad,
                          **_factory_kwargs(self, dtype, device))


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return creation.ones(*size, requires_grad=requires_grad,
                         **_factory_kwargs(self, dtype, device))


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return creation.empty(*size, requires_grad=requires_grad,
                          **_factory_kwargs(self, dtype, device))


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return creation.full(size, fill_value, requires_grad=requires_grad,
                         **_factory_kwargs(self, dtype, device))


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A copy of ``data`` with this tensor's dtype and device unless given (torch converts
    even Python floats to this tensor's dtype)."""
    kwargs = _factory_kwargs(self, dtypes.resolve(dtype), device)
    return Tensor(data, requires_grad=requires_grad, **kwargs)


# bound as Tensor methods in tensor_methods.py
METHODS = (clone, is_contiguous, contiguous, t, view_as, reshape_as, expand_as, type_as, view,
           new_zeros, new_ones, new_empty, new_full, new_tensor, random.multinomial,
           random.bernoulli)

"""In-place ``_`` methods (zero_, fill_, copy_, add_, ..., scatter_) with torch's autograd rules.

Every method computes its new value with the out-of-place ops and then stores it by the one
in-place rule of the operators and ``x[k] = v`` (``ops.index.write_inplace``), which mirrors
torch:

- a leaf that requires grad refuses while grad mode is on (update it under ``no_grad``);
- a tensor in a recorded graph (it requires grad, or the new value depends on a tensor that
  requires grad) becomes the output of the recorded op: the same Tensor object gets the new
  value, written into its memory, and a ``grad_fn``, so ``y = x * 2; y.add_(1);
  y.sum().backward()`` gives torch's gradient (nodes that saved the old values keep a copy);
- anything else is written into its array in place, so views and aliases see the change.

Each update bumps the tensor's version counter, which its views share.
"""
import numpy as np

from .autograd import no_grad
from .backend import array_module
from .ops import elementwise as E, gather as G, pointwise as P
from .ops import index as I
from .random import numpy_generator
from .tensor import Tensor


def _update(self, op, compute, value_requires=False):
    """Give ``self`` the value ``compute(t)`` (a function of the tensor before the update) by
    the one in-place rule of ``ops.index.write_inplace``; returns ``self``."""
    def record(snapshot):
        return _checked(op, self, compute(snapshot))

    def write():
        with no_grad():
            self.data[...] = _checked(op, self, compute(self)).data
    return I.write_inplace(self, op, value_requires, record, write)


def _checked(op, self, new):
    """``new`` in ``self``'s dtype; torch refuses a result that would change shape or lose its
    kind (a float result stored into an integer tensor)."""
    if new.shape != self.shape:
        raise RuntimeError(f"{op}: the result has shape {new.shape}, which cannot be stored in "
                           f"place into a tensor of shape {self.shape}")
    if new.dtype != self.dtype:
        if not np.can_cast(new.dtype, self.dtype, "same_kind"):
            raise RuntimeError(f"{op}: result type {new.dtype} can't be cast to the tensor's "
                               f"dtype {self.dtype} in place")
        new = new.to(dtype=self.dtype)
    return new


def _requires_grad(value):
    return isinstance(value, Tensor) and value.requires_grad


def _as_tensor_on(self, value, op):
    """A Tensor value on ``self``'s device (a number becomes a 0-d tensor of self's dtype)."""
    if isinstance(value, Tensor):
        return value if value.device == self.device else value.to(self.device)
    if isinstance(value, (bool, int, float, np.generic)):
        return Tensor._wrap(array_module(self.data).asarray(value, dtype=self.dtype))
    raise TypeError(f"{op}: expected a number or a Tensor, got {type(value).__name__}")


# ----------------------------------------------------------------- overwriting the contents
def _fill(self, value, op):
    value = _as_tensor_on(self, value, op)
    if value.ndim != 0:
        raise RuntimeError(f"{op}: only a 0-d value tensor is supported, got shape "
                           f"{value.shape}")
    return _update(self, op, lambda t: I.Overwrite.apply(t, value), value.requires_grad)


def fill_(self, value):
    """Set every element to ``value`` (a number or a 0-d Tensor)."""
    return _fill(self, value, "fill_")


def zero_(self):
    """Set every element to 0."""
    return _fill(self, 0, "zero_")


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast to this shape, cast to this dtype, moved to this device)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a Tensor as src, got {type(src).__name__}")
    if not _broadcasts_to(src.shape, self.shape):
        raise RuntimeError(f"copy_: src of shape {src.shape} does not broadcast to the "
                           f"tensor's shape {self.shape}")
    src = _as_tensor_on(self, src, "copy_")
    return _update(self, "copy_", lambda t: I.Overwrite.apply(t, src), src.requires_grad)


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _random_fill(op, draw):
    def method(self, *args, generator=None):
        if self.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating tensor, got dtype {self.dtype}")
        values = draw(numpy_generator(generator, op), self.shape, *args)
        value = _as_tensor_on(self, Tensor._wrap(values.astype(self.dtype)), op)
        return _update(self, op, lambda t: I.Overwrite.apply(t, value))
    method.__name__ = op
    return method


def _draw_uniform(rng, shape, low=0.0, high=1.0):
    if not low <= high:
        raise ValueError(f"uniform_: expected from <= to, got from={low}, to={high}")
    return rng.uniform(low, high, shape)


def _draw_normal(rng, shape, mean=0.0, std=1.0):
    if not std >= 0:
        raise ValueError(f"normal_: expected std >= 0, got std={std}")
    return rng.normal(mean, std, shape)


uniform_ = _random_fill("uniform_", _draw_uniform)
normal_ = _random_fill("normal_", _draw_normal)
uniform_.__doc__ = "Fill with samples of U(from, to): ``uniform_(from=0, to=1, generator=None)``."
normal_.__doc__ = "Fill with samples of N(mean, std^2): ``normal_(mean=0, std=1, generator=None)``."


# ---------------------------------------------------------------------- arithmetic
def _scaled(other, alpha):
    if alpha == 1:
        return other
    return E.mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def add_(self, other, *, alpha=1):
    """self += alpha * other."""
    other = _scaled(other, alpha)
    return _update(self, "add_", lambda t: E.add(t, other), _requires_grad(other))


def sub_(self, other, *, alpha=1):
    """self -= alpha * other."""
    other = _scaled(other, alpha)
    return _update(self, "sub_", lambda t: E.sub(t, other), _requires_grad(other))


def mul_(self, other):
    return _update(self, "mul_", lambda t: E.mul(t, other), _requires_grad(other))


def div_(self, other, *, rounding_mode=None):
    """self /= other; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient, as torch."""
    return _update(self, "div_", lambda t: P.divide(t, other, rounding_mode=rounding_mode),
                   _requires_grad(other))


def clamp_(self, min=None, max=None):  # noqa: A002  (torch's argument names)
    return _update(self, "clamp_", lambda t: E.clip(t, min, max))


# --------------------------------------------------------------- masked and indexed fills
def masked_fill_(self, mask, value):
    """Set the elements where the boolean ``mask`` (broadcast to this shape) is True to
    ``value`` (a number, or a 0-d Tensor, which then receives the gradient of those elements)."""
    return _masked_fill(self, mask, value, "masked_fill_")


def _masked_fill(self, mask, value, op):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"{op}: only a 0-d value tensor is supported, got shape "
                               f"{value.shape}")
        return _update(self, op, lambda t: E.where(mask, value, t), value.requires_grad)
    return _update(self, op, lambda t: E.masked_fill(t, mask, value))


def index_fill_(self, dim, index, value):
    """Set the slices ``index`` (int64, 0-d or 1-d) along ``dim`` to ``value``."""
    axis = _axis("index_fill_", self, dim)
    if not isinstance(index, Tensor) or index.dtype != np.int64 or index.ndim > 1:
        raise TypeError(f"index_fill_: index must be an int64 Tensor with at most 1 dimension, "
                        f"got {_describe(index)}")
    size = self.shape[axis] if self.ndim else 1
    idx = index.numpy().reshape(-1)
    if idx.size and not (-size <= idx.min() and idx.max() < size):
        raise IndexError(f"index_fill_: index out of range for dimension {dim} of size {size} "
                         f"(indices from {idx.min()} to {idx.max()})")
    selected = np.zeros(size, dtype=np.bool_)
    selected[idx] = True
    mask_shape = [1] * self.ndim
    if self.ndim:
        mask_shape[axis] = size
    mask = _as_tensor_on(self, Tensor._wrap(selected.reshape(mask_shape)), "index_fill_")
    return _masked_fill(self, mask, value, "index_fill_")


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    """Write ``src`` (a Tensor, or a number: ``value``) at ``index`` along ``dim``:
    ``self[index[i][j]][j] = src[i][j]`` for dim 0; ``reduce='add'`` adds instead."""
    return _update(self, "scatter_",
                   lambda t: G.scatter(t, dim, index, src, value=value, reduce=reduce),
                   _requires_grad(src))


def _axis(op, self, dim):
    n = max(self.ndim, 1)  # torch treats a 0-d tensor's only dimension as 0 or -1
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of shape {self.shape}")
    return dim % n


def _describe(x):
    if isinstance(x, Tensor):
        return f"a {x.dtype} tensor of shape {x.shape}"
    return type(x).__name__


# bound as Tensor methods in tensor_methods.py
METHODS = (fill_, zero_, copy_, uniform_, normal_, add_, sub_, mul_, div_, clamp_, masked_fill_,
           index_fill_, scatter_)

"""Autograd API: ``Function`` (the op pattern), grad mode, and the engine entry points.

The engine itself (graph recording and the backward traversal) is in ``engine.py``, compiled with
Cython into ``_engine``. An op is a ``Function`` subclass with static ``forward(ctx, *arrays, **params)`` and
``backward(ctx, *grads)`` on raw numpy/cupy arrays; ``Op.apply(*tensors, **params)`` runs it.
"""
import functools

from .backend import engine as _engine

Context, is_grad_enabled, unbroadcast = _engine.Context, _engine.is_grad_enabled, _engine.unbroadcast
is_grad_enable = is_grad_enabled  # PyDyNet's spelling

__all__ = ["Function", "Context", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "unbroadcast"]


def fresh_reshape(a, shape):
    """``a`` (a kernel's fresh output) with ``shape``, relabelled in place rather than viewed,
    for a backward to return: the engine copies a view before a leaf keeps it as .grad (it may
    share memory with another gradient), which for a table-sized gradient costs as much as
    computing it."""
    if a.base is None and a.flags.c_contiguous:
        a.shape = shape
        return a
    return a.reshape(shape)

class Function:
    """Base class of differentiable operations (see DESIGN.md, "The op pattern").

    ``forward(ctx, *arrays, **params)`` returns an array or a tuple of arrays;
    ``backward(ctx, *grads)`` returns one array or None per positional input of forward.
    """

    apply = classmethod(_engine.apply)

    @staticmethod
    def forward(ctx, *arrays, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError


class _GradMode:
    """Context manager and decorator that sets grad mode and restores the previous one."""

    enabled = True

    def __enter__(self):
        self._previous = _engine.is_grad_enabled()
        _engine.set_grad_enabled(self.enabled)
        return self

    def __exit__(self, *exc):
        _engine.set_grad_enabled(self._previous)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Operations inside record no graph (inference, optimiser updates). Thread-local."""

    enabled = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block. Thread-local."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` as a call, a context manager or a decorator."""

    def __init__(self, mode):
        self.enabled = bool(mode)
        self._previous = _engine.is_grad_enabled()
        _engine.set_grad_enabled(self.enabled)

    def __enter__(self):
        return self

    def __call__(self, func):
        _engine.set_grad_enabled(self._previous)
        mode = self.enabled

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper

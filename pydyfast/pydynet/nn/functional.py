"""``pydynet.nn.functional``: PyDyNet 1.1's functions over pydyfast's ops.

Adapted where PyDyNet's signature or meaning differs from PyTorch's: ``linear`` takes an
(in, out) weight, ``conv1d``/``conv2d`` take ``padding`` before ``stride``, ``softmax`` and
``log_softmax`` reduce over every axis when ``axis`` is None, ``nll_loss`` is the mean of
``-y_pred * y_true`` (one-hot or probability targets), and ``embedding`` needs ``padding_idx``.
``cross_entropy_loss`` is PyDyNet-only, so ``pydyfast.nn.functional`` has it with PyDyNet's
meaning.
"""
from ... import functional as _F
from ...autograd import no_grad  # noqa: F401
from ...nn import functional as _nnF
from ..core import unsqueeze  # noqa: F401
from ...nn.functional import (avg_pool1d, avg_pool2d, cross_entropy_loss,  # noqa: F401
                              max_pool1d, max_pool2d, mse_loss, relu, sigmoid, silu, tanh)


def _reduce(loss, reduction):
    if reduction == "mean":
        return _F.mean(loss)
    if reduction == "sum":
        return _F.sum(loss)
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


def linear(x, weight, bias):
    """``x @ weight + bias`` with PyDyNet's (in_features, out_features) weight."""
    out = _F.matmul(x, weight)
    return out if bias is None else out + bias


def embedding(x, weight, padding_idx):
    """Rows of ``weight`` picked by the indices ``x``; positions holding ``padding_idx`` read as
    zeros whatever that row holds (PyTorch returns the row, which it keeps at zero)."""
    rows = _nnF.embedding(x, weight, padding_idx=padding_idx)
    if padding_idx is None:
        return rows
    return rows * _F.unsqueeze(x.ne(padding_idx), -1).to(weight.dtype)


def leaky_relu(x, alpha):
    return _nnF.leaky_relu(x, alpha)


def softmax(x, axis=None):
    """Softmax over ``axis``; over all elements when ``axis`` is None (PyDyNet's default)."""
    if axis is not None:
        return _F.softmax(x, axis=axis)
    return _F.reshape(_F.softmax(_F.reshape(x, (-1,)), axis=0), x.shape)


def log_softmax(x, axis=None, keepdims=False):
    """``x - logsumexp(x, axis)``; ``keepdims=False`` with an axis broadcasts as PyDyNet does."""
    return x - _F.logsumexp(x, axis=axis, keepdims=keepdims)


def conv1d(x, kernel, padding=0, stride=1):
    return _F.conv1d(x, kernel, stride=stride, padding=padding)


def conv2d(x, kernel, padding=0, stride=1):
    return _F.conv2d(x, kernel, stride=stride, padding=padding)


def nll_loss(y_pred, y_true, reduction="mean"):
    """PyDyNet's negative log-likelihood: ``-y_pred * y_true`` reduced over every element."""
    return _reduce(-y_pred * y_true, reduction)

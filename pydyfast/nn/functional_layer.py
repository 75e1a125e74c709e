"""Layer functions of ``pydyfast.nn.functional``: linear, bilinear, embedding, dropout, one_hot,
batch_norm and group_norm (PyTorch's signatures)."""
import numpy as np

from ..backend import array_module
from ..creation import generator
from ..ops.dropout import Dropout
from ..ops.embedding import Embedding
from ..ops.linalg import Linear, matmul
from ..ops.norm import normalize_rows
from ..tensor import Tensor

__all__ = ["linear", "bilinear", "embedding", "dropout", "dropout1d", "dropout2d", "dropout3d",
           "one_hot", "batch_norm", "group_norm"]


def _check_float(op, **tensors):
    for name, t in tensors.items():
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.data.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got dtype {t.dtype}")
    given = {name: t.dtype for name, t in tensors.items() if t is not None}
    if len(set(given.values())) > 1:  # torch raises too rather than computing in the wider one
        raise TypeError(f"{op}: expected one dtype for all of " + ", ".join(
            f"{name} ({d})" for name, d in given.items()) + "; convert the input with .to()")


def linear(input, weight, bias=None):  # noqa: A002  (PyTorch's argument name)
    """y = x W^T + b.  input (..., in), weight (out, in), bias (out,) -> (..., out)."""
    _check_float("linear", input=input, weight=weight, bias=bias)
    if weight.ndim != 2 or input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {input.shape} does not match weight of shape "
                         f"{weight.shape}; expected input (..., {weight.shape[-1]}) and a 2-D "
                         f"weight (out_features, in_features)")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape}, expected ({weight.shape[0]},)")
    return Linear.apply(input, weight) if bias is None else Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1^T W_o x2 + b_o.  input1 (..., in1), input2 (..., in2), weight (out, in1, in2),
    bias (out,) -> (..., out). One GEMM: x1 @ W viewed as (in1, out*in2), then a dot with x2."""
    _check_float("bilinear", input1=input1, input2=input2, weight=weight, bias=bias)
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] \
            or input2.shape[-1] != weight.shape[2] or input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"bilinear: inputs of shapes {input1.shape} and {input2.shape} do not "
                         f"match weight of shape {weight.shape}; expected (..., in1), (..., in2) "
                         f"with the same leading shape and weight (out, in1, in2)")
    out, in1, in2 = weight.shape
    if bias is not None and bias.shape != (out,):
        raise ValueError(f"bilinear: bias of shape {bias.shape}, expected ({out},)")
    t = matmul(input1.reshape(-1, in1), weight.permute(1, 0, 2).reshape(in1, out * in2))
    y = (t.reshape(*input1.shape[:-1], out, in2) * input2.unsqueeze(-2)).sum(axis=-1)
    return y if bias is None else y + bias


def embedding(input, weight, padding_idx=None):  # noqa: A002
    """weight[input].  input: integer indices of any shape, weight (num_embeddings, dim) ->
    input.shape + (dim,). Row ``padding_idx`` gets no gradient."""
    _check_float("embedding", weight=weight)
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got {weight.shape}")
    n = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError(f"embedding: indices must lie in [0, {n}), got values in "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} out of range for {n} rows")
        padding_idx %= n
    xp = array_module(weight.data)
    if type(idx) is not type(weight.data):
        idx = xp.asarray(idx)
    return Embedding.apply(weight, indices=idx, padding_idx=padding_idx)


def _dropout(op, input, p, training, mask_shape):  # noqa: A002
    """Inverted dropout with one keep/drop draw per entry of ``mask_shape`` (broadcast)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must lie in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    dtype = input.data.dtype
    if p == 1.0:
        return input * 0.0
    if type(input.data) is np.ndarray:
        keep = generator().random(mask_shape, dtype=np.float32) >= p
    else:
        keep = array_module(input.data).random.random(mask_shape, dtype=np.float32) >= p
    return Dropout.apply(input, mask=keep.astype(dtype) * dtype.type(1.0 / (1.0 - p)))


def dropout(input, p=0.5, training=True):  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted dropout,
    so eval needs no rescaling); the identity when not training or p = 0. Any shape."""
    _check_float("dropout", input=input)
    return _dropout("dropout", input, p, training, input.shape)


def _channel_dropout(op, input, p, training, spatial):  # noqa: A002
    """Dropout of whole channels: one draw per (n, c) of a batched input (N, C, *spatial), per c
    of an unbatched one (C, *spatial)."""
    _check_float(op, input=input)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D input, "
                         f"got shape {input.shape}")
    channels = input.ndim - spatial
    mask_shape = input.shape[:channels] + (1,) * spatial
    return _dropout(op, input, p, training, mask_shape)


def dropout1d(input, p=0.5, training=True):  # noqa: A002
    """Zero whole channels of (N, C, L) or (C, L) with probability ``p``, scaling the rest by
    1/(1-p)."""
    return _channel_dropout("dropout1d", input, p, training, 1)


def dropout2d(input, p=0.5, training=True):  # noqa: A002
    """Zero whole channels of (N, C, H, W) with probability ``p`` (one draw per (n, c)), scaling
    the rest by 1/(1-p). A 3-D input is taken as (N, C, L), as PyTorch does (with a warning)."""
    _check_float("dropout2d", input=input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got "
                         f"shape {input.shape}")
    return _channel_dropout("dropout2d", input, p, training, input.ndim - 2)


def dropout3d(input, p=0.5, training=True):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability ``p``, scaling
    the rest by 1/(1-p)."""
    return _channel_dropout("dropout3d", input, p, training, 3)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding: indices (...) -> (..., num_classes); num_classes=-1 uses max + 1."""
    idx = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class indices, got dtype {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num_classes):
        raise ValueError(f"one_hot: class values must lie in [0, {num_classes}), got "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    xp = array_module(idx)
    return Tensor._wrap(xp.eye(num_classes, dtype=np.int64)[idx])


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _update_running(running, batch, momentum):
    """running = (1 - momentum) running + momentum batch, in place (no-op without a buffer)."""
    if running is not None:
        running.data *= 1 - momentum
        running.data += (momentum * batch).astype(running.data.dtype)


def _affine(y, weight, bias, shape):
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def batch_norm(input, running_mean, running_var, weight=None,  # noqa: A002
               bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization over every axis but the channel axis 1.

    y = (x - mean) / sqrt(var + eps) * weight + bias, input (N, C, *) -> same shape; weight,
    bias, running_mean, running_var (C,). Training uses the batch statistics (biased variance)
    and, when running stats are given, updates them in place:
    running = (1 - momentum) running + momentum batch (unbiased variance). Eval uses the
    running statistics.
    """
    _check_float("batch_norm", input=input, weight=weight, bias=bias)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C, *), got shape {input.shape}")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"batch_norm: {name} of shape {t.shape}, expected ({c},) for input "
                             f"of shape {input.shape}")
    shape = _channel_shape(input)
    if training:
        count = input.data.size // c
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {input.shape}")
        # channels as rows: (N, C, L) -> (C, N, L), normalised by the row kernel
        n, length = input.shape[0], count // input.shape[0]
        rows = input.reshape(n, c, length).permute(1, 0, 2)
        stats = []
        y = normalize_rows(rows.reshape(c, count), eps, stats)
        y = y.reshape(c, n, length).permute(1, 0, 2).reshape(input.shape)
        if running_mean is not None or running_var is not None:
            mean, rstd = stats[0]
            var = 1.0 / (rstd.astype(np.float64) ** 2) - eps  # biased batch variance
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, var * (count / (count - 1)), momentum)
        return _affine(y, weight, bias, shape)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: eval mode needs running_mean and running_var")
    data = input.data
    invstd = 1.0 / array_module(data).sqrt(running_var.data.reshape(shape) + eps)
    y = (input - Tensor._wrap(running_mean.data.reshape(shape).astype(data.dtype))) \
        * Tensor._wrap(invstd.astype(data.dtype))
    return _affine(y, weight, bias, shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Group normalization: channels split into ``num_groups`` groups, each normalized over its
    channels and all spatial positions per sample. input (N, C, *), weight/bias (C,)."""
    _check_float("group_norm", input=input, weight=weight, bias=bias)
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected input (N, C, *) with C divisible by num_groups="
                         f"{num_groups}, got shape {input.shape}")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"group_norm: {name} of shape {t.shape}, expected ({c},)")
    n = input.shape[0]
    per_group = input.numel() // n // num_groups if n else 0
    y = normalize_rows(input.reshape(n * num_groups, per_group), eps)
    return _affine(y.reshape(input.shape), weight, bias, _channel_shape(input))

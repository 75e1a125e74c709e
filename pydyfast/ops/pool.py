"""Pooling over (N, C, H, W) and (N, C, L): max, average and adaptive average.

Compiled kernels ``pydyfast._C.max_pool2d_fwd/_bwd`` and ``avg_pool2d_fwd/_bwd`` with NumPy
references beside them; 1-D pooling is 2-D pooling with H = 1. Max pooling saves the argmax of
each window (a flat index h*W + w into its input plane, as PyTorch) and backward scatter-adds
the output gradient through it. Every average pooling is separable: the window of output
(i, j) is rows [h_start[i], h_end[i]) x columns [w_start[j], w_end[j]) scaled by
h_scale[i] * w_scale[j], which covers count_include_pad both ways and PyTorch's adaptive bins.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module, dispatch
from ..tensor import Tensor
from .conv import ntuple

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "max_unpool1d", "max_unpool2d"]


def pool_output_size(op, size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's rule: floor or ceil of (n + 2p - d(k-1) - 1) / s, plus 1, where a last window
    that would start in the right padding is dropped."""
    out = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        if p > k // 2:
            raise ValueError(f"{op}: padding {padding} should be at most half of the kernel "
                             f"size {kernel}")
        span = n + 2 * p - d * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        if span < 0 or o < 1:
            raise ValueError(f"{op}: input size {tuple(size)} is too small for kernel {kernel} "
                             f"with padding {padding} and dilation {dilation}")
        out.append(o)
    return tuple(out)


def _tap_positions(xp, out_len, size, k_index, stride, padding, dilation):
    """Input positions read by tap ``k_index`` of each of ``out_len`` windows, and which are
    inside [0, size)."""
    pos = xp.arange(out_len) * stride - padding + k_index * dilation
    return pos, (pos >= 0) & (pos < size)


def _max_pool2d_ref(xp, x, kernel, stride, padding, dilation, out_size):
    n, c, h, w = x.shape
    best = xp.full((n, c) + tuple(out_size), -xp.inf, dtype=x.dtype)
    best_at = xp.zeros(best.shape, dtype=np.int64)
    seen = xp.zeros(out_size, dtype=bool)
    for i in range(kernel[0]):
        rows, row_in = _tap_positions(xp, out_size[0], h, i, stride[0], padding[0], dilation[0])
        for j in range(kernel[1]):
            cols, col_in = _tap_positions(xp, out_size[1], w, j, stride[1], padding[1],
                                          dilation[1])
            inside = row_in[:, None] & col_in[None, :]
            v = x[:, :, xp.clip(rows, 0, h - 1)[:, None], xp.clip(cols, 0, w - 1)[None, :]]
            # first in-bounds tap, then strictly larger values, and a NaN wins (as PyTorch)
            take = inside & (~seen | (v > best) | (xp.isnan(v) & ~xp.isnan(best)))
            best = xp.where(take, v, best)
            best_at = xp.where(take, rows[:, None] * w + cols[None, :], best_at)
            seen = seen | inside
    return best, best_at


def _max_pool2d_bwd_ref(xp, gy, idx, size):
    n, c = gy.shape[:2]
    plane_len = size[0] * size[1]
    flat = (xp.arange(n * c).reshape(n, c, 1, 1) * plane_len + idx).ravel()
    gx = xp.bincount(flat, weights=gy.ravel(), minlength=n * c * plane_len)  # a scatter-add
    return gx.astype(gy.dtype).reshape((n, c) + tuple(size))


class MaxPool2d(Function):
    """y[n, c, i, j] = max over the (dilated, padded) window of x[n, c]; x (N, C, H, W)."""

    @staticmethod
    def forward(ctx, x, **geometry):
        return MaxPool2d.values_and_indices(ctx, x, geometry)[0]

    @staticmethod
    def values_and_indices(ctx, x, geometry):
        y, idx = dispatch(x, ref=_max_pool2d_ref, native="max_pool2d_fwd", **geometry)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(idx)
            ctx.size = x.shape[2:]
        return y, idx

    @staticmethod
    def backward(ctx, gy):
        (idx,) = ctx.saved_tensors
        return dispatch(gy, idx, ref=_max_pool2d_bwd_ref, native="max_pool2d_bwd",
                        size=tuple(ctx.size))


class MaxPool2dWithIndices(MaxPool2d):
    """MaxPool2d that also returns the argmax (int64, flat h*W + w per plane) as an output."""

    @staticmethod
    def forward(ctx, x, **geometry):
        return MaxPool2d.values_and_indices(ctx, x, geometry)

    @staticmethod
    def backward(ctx, gy, _gidx):
        return MaxPool2d.backward(ctx, gy)


def _window_matrix(xp, start, end, scale, size, dtype):
    """(out, size) matrix with row i = scale[i] on [start[i], end[i]): pooling as a product."""
    pos = np.arange(size)
    inside = (pos >= start[:, None]) & (pos < end[:, None])
    return xp.asarray(np.where(inside, scale[:, None], 0.0).astype(dtype))


def _avg_pool2d_ref(xp, x, h_start, h_end, h_scale, w_start, w_end, w_scale):
    rows = _window_matrix(xp, h_start, h_end, h_scale, x.shape[2], x.dtype)
    cols = _window_matrix(xp, w_start, w_end, w_scale, x.shape[3], x.dtype)
    return xp.matmul(xp.matmul(rows, x), cols.T)


def _avg_pool2d_bwd_ref(xp, gy, size, h_start, h_end, h_scale, w_start, w_end, w_scale):
    rows = _window_matrix(xp, h_start, h_end, h_scale, size[0], gy.dtype)
    cols = _window_matrix(xp, w_start, w_end, w_scale, size[1], gy.dtype)
    return xp.matmul(xp.matmul(rows.T, gy), cols)


class AvgPool2d(Function):
    """y[n, c, i, j] = h_scale[i] w_scale[j] sum of x[n, c] over rows [h_start[i], h_end[i])
    and columns [w_start[j], w_end[j]); x (N, C, H, W)."""

    @staticmethod
    def forward(ctx, x, *, windows):
        ctx.windows, ctx.size = windows, x.shape[2:]
        return dispatch(x, ref=_avg_pool2d_ref, native="avg_pool2d_fwd", **windows)

    @staticmethod
    def backward(ctx, gy):
        return dispatch(gy, ref=_avg_pool2d_bwd_ref, native="avg_pool2d_bwd",
                        size=tuple(ctx.size), **ctx.windows)


def _avg_windows(size, kernel, stride, padding, out, count_include_pad):
    """[start, end) and 1/divisor along one axis, with PyTorch's avg_pool divisor."""
    start = np.arange(out, dtype=np.int64) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    padded_len = end - start
    start, end = np.maximum(start, 0), np.minimum(end, size)
    return start, end, 1.0 / (padded_len if count_include_pad else end - start)


def _adaptive_windows(size, out):
    """PyTorch's adaptive bins: [floor(i*n/out), ceil((i+1)*n/out))."""
    i = np.arange(out, dtype=np.int64)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    return start, end, 1.0 / (end - start)


def _pool_input(op, x, spatial):
    """x with a batch axis and a unit height for 1-D pooling: (N, C, H, W)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {x.dtype}")
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 2}-D (batched) or {spatial + 1}-D input, "
                         f"got shape {x.shape}")
    if min(x.shape[-spatial:]) < 1:
        raise ValueError(f"{op}: the pooled axes of input {x.shape} must be non-empty")
    shape = x.shape if x.ndim == spatial + 2 else (1,) + x.shape
    return x.reshape(shape[:2] + (1,) * (2 - spatial) + shape[2:])


def _pool_output(y, input, spatial):  # noqa: A002
    """Drop the unit height of 1-D pooling and the batch axis of an unbatched input."""
    shape = y.shape[:2] + y.shape[4 - spatial:]
    return y.reshape(shape if input.ndim == spatial + 2 else shape[1:])


def _pool_geometry(op, spatial, kernel_size, stride, padding, dilation):
    """The 2-D geometry of a 1-D or 2-D pooling (1-D: a 1-high kernel)."""
    kernel = ntuple(op, "kernel_size", kernel_size, spatial, 1)
    stride = kernel if stride is None or stride == () or stride == [] else \
        ntuple(op, "stride", stride, spatial, 1)
    padding = ntuple(op, "padding", padding, spatial, 0)
    dilation = ntuple(op, "dilation", dilation, spatial, 1)
    lift = lambda t, fill: (fill,) * (2 - spatial) + t  # noqa: E731
    return lift(kernel, 1), lift(stride, 1), lift(padding, 0), lift(dilation, 1)


def _max_pool(op, spatial, input, kernel_size, stride, padding, dilation, ceil_mode,  # noqa: A002
              return_indices):
    x = _pool_input(op, input, spatial)
    kernel, stride, padding, dilation = _pool_geometry(op, spatial, kernel_size, stride,
                                                       padding, dilation)
    out_size = pool_output_size(op, x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    function = MaxPool2dWithIndices if return_indices else MaxPool2d
    y = function.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                       out_size=out_size)
    if return_indices:
        return _pool_output(y[0], input, spatial), _pool_output(y[1], input, spatial)
    return _pool_output(y, input, spatial)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode=False, return_indices=False):
    """Max over (dilated) KH x KW windows, padding counting as -inf.

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW), OH = (H + 2 padding - dilation (KH - 1)
    - 1) / stride + 1 rounded down (up with ceil_mode); stride defaults to kernel_size. With
    ``return_indices`` also the int64 argmax of each window, h * W + w in its input plane.
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode=False, return_indices=False):
    """Max over (dilated) windows of K along L: (N, C, L) or (C, L) -> (N, C, OL); with
    ``return_indices`` also the int64 argmax positions along L."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


class MaxUnpool2d(Function):
    """y (N, C, OH, OW) = 0 except y.plane[indices] = x: the scatter that inverts max pooling;
    backward gathers the output gradient at the same indices."""

    @staticmethod
    def forward(ctx, x, *, flat, out_shape):
        y = array_module(x).zeros(out_shape, dtype=x.dtype)
        y.reshape(-1)[flat] = x.reshape(-1)
        ctx.flat, ctx.in_shape = flat, x.shape
        return y

    @staticmethod
    def backward(ctx, gy):
        return gy.reshape(-1)[ctx.flat].reshape(ctx.in_shape)


def _max_unpool(op, spatial, input, indices, kernel_size, stride, padding,  # noqa: A002
                output_size):
    x = _pool_input(op, input, spatial)
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu" or tuple(idx.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices must be an integer tensor of the input's shape "
                         f"{input.shape}, got {idx.dtype} {tuple(idx.shape)}")
    kernel, stride, padding, _ = _pool_geometry(op, spatial, kernel_size, stride, padding, 1)
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in
                    zip(x.shape[2:], stride, padding, kernel))[2 - spatial:]
    size = default if output_size is None else tuple(output_size)[-spatial:]
    if len(size) != spatial or min(size) < 1:
        raise ValueError(f"{op}: output_size {output_size!r} must give {spatial} positive sizes")
    # PyTorch's bound: only sizes the pooling could have come from (within a stride)
    for n, d, s in zip(size, default, stride[2 - spatial:]):
        if not d - s < n < d + s:
            raise ValueError(f"{op}: output_size {output_size!r} must lie strictly between "
                             f"{d - s} and {d + s} along each axis (default {default})")
    plane = int(np.prod(size))
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= plane):
        raise ValueError(f"{op}: indices must lie in [0, {plane}) for output size {size}, got "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    xp = array_module(x.data)
    rows = xp.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2] + (1, 1)) * plane
    flat = (rows + xp.asarray(idx).reshape(x.shape)).reshape(-1)
    out_shape = x.shape[:2] + (1,) * (2 - spatial) + size
    return _pool_output(MaxUnpool2d.apply(x, flat=flat, out_shape=out_shape), input, spatial)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None):
    """The partial inverse of ``max_pool2d``: input (N, C, H, W) or (C, H, W) and the pool's
    indices -> (N, C, OH, OW), zero except at the indices; OH = (H - 1) stride - 2 padding + KH
    unless output_size is given."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None):
    """The partial inverse of ``max_pool1d``: (N, C, L) or (C, L) -> (N, C, OL),
    OL = (L - 1) stride - 2 padding + K unless output_size is given."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def _avg_pool(op, spatial, input, kernel_size, stride, padding, ceil_mode,  # noqa: A002
              count_include_pad):
    x = _pool_input(op, input, spatial)
    kernel, stride, padding, dilation = _pool_geometry(op, spatial, kernel_size, stride,
                                                       padding, 1)
    out_size = pool_output_size(op, x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    (hs, he, hscale), (ws, we, wscale) = [
        _avg_windows(*args, bool(count_include_pad))
        for args in zip(x.shape[2:], kernel, stride, padding, out_size)]
    windows = dict(h_start=hs, h_end=he, h_scale=hscale, w_start=ws, w_end=we, w_scale=wscale)
    return _pool_output(AvgPool2d.apply(x, windows=windows), input, spatial)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True):
    """Mean over KH x KW windows: input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).

    The divisor is the window size clipped to the padded input (count_include_pad=True, as
    PyTorch) or the number of input elements in the window (False).
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True):
    """Mean over windows of K along L: (N, C, L) or (C, L) -> (N, C, OL)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad)


def _adaptive_avg_pool(op, spatial, input, output_size):  # noqa: A002
    x = _pool_input(op, input, spatial)
    given = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * spatial
    if len(given) != spatial:
        raise ValueError(f"{op}: output_size must be an int or {spatial} ints, got "
                         f"{output_size!r}")
    sizes = tuple(x.shape[2 + (2 - spatial) + a] if s is None else s for a, s in enumerate(given))
    sizes = (1,) * (2 - spatial) + ntuple(op, "output_size", sizes, spatial, 1)
    (hs, he, hscale), (ws, we, wscale) = [_adaptive_windows(n, o)
                                          for n, o in zip(x.shape[2:], sizes)]
    windows = dict(h_start=hs, h_end=he, h_scale=hscale, w_start=ws, w_end=we, w_scale=wscale)
    return _pool_output(AvgPool2d.apply(x, windows=windows), input, spatial)


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Mean over PyTorch's adaptive bins: row bin i spans [floor(i H / OH), ceil((i+1) H / OH)).

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW); output_size an int, a pair, or a pair
    with None keeping that input size.
    """
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """Mean over adaptive bins along L: (N, C, L) or (C, L) -> (N, C, OL)."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)

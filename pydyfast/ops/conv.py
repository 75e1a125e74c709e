"""Convolutions in 1-D and 2-D with groups: compiled per-image kernels, im2col + GEMM references.

On the CPU a convolution is one call into ``pydyfast._C`` (csrc/conv.cpp): per image, im2col of
a tile of output rows into a buffer that stays in cache, the GEMM written straight into the NCHW
result, and the gradients the same way, all inside one OpenMP region over the batch. The NumPy
references below (used under ``PYDYFAST_KERNELS=numpy``, for other dtypes and on CuPy) compute
the same with whole-batch im2col / col2im (compiled or CUDA kernels themselves) and numpy/cupy
GEMMs. The layout is

    x (N, C, H, W)  <->  col (N, C*KH*KW, OH*OW),   OH = (H + 2p - d (KH - 1) - 1) // s + 1,

so ``y[n] = W (O, C*KH*KW) @ col[n]`` lands in NCHW directly and groups are a reshape of the
column rows. col2im is the adjoint of im2col: a scatter-ADD, since overlapping windows all add
to the same input pixel (PyDyNet assigned them, and its input gradient was wrong). 1-D
convolutions are 2-D ones with H = KH = 1. The transposed convolutions (conv_transpose.py) run
on the same kernels with the roles of input and output swapped.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module, dispatch
from ..tensor import Tensor
from .padding import pad

__all__ = ["conv1d", "conv2d"]


_INT64_MAX = 2**63 - 1  # the kernels compute sizes in int64


def ntuple(op, name, value, n, minimum):
    """``value`` (an int or a sequence of n ints) as a tuple of n ints in [minimum, 2**63)."""
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    values = (value,) * n if is_int else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   for v in values):
        raise TypeError(f"{op}: {name} must be an int or {n} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    if any(v > _INT64_MAX for v in values):
        raise ValueError(f"{op}: {name} {value!r} does not fit in a 64-bit integer")
    return tuple(int(v) for v in values)


def _check_int64(op, what, values):
    """Sizes derived from the arguments must fit the kernels' int64 arithmetic too."""
    if any(abs(v) > _INT64_MAX for v in values):
        raise ValueError(f"{op}: {what} {tuple(values)} does not fit in a 64-bit integer")


def conv_output_size(op, size, kernel, stride, padding, dilation):
    """(OH, OW) of a convolution window sliding over ``size`` (H, W); raises when the dilated
    kernel does not fit in the padded input."""
    out = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        _check_int64(op, "the padded input and dilated kernel sizes", (n + 2 * p + s, span))
        if n + 2 * p < span:
            raise ValueError(f"{op}: the dilated kernel size {span} is larger than the padded "
                             f"input size {n + 2 * p} (input {tuple(size)}, kernel {kernel}, "
                             f"padding {padding}, dilation {dilation})")
        out.append((n + 2 * p - span) // s + 1)
    return tuple(out)


def _window_slices(i, j, out_size, stride, dilation):
    """The strided slices of a padded image that tap (i, j) of the kernel reads."""
    (oh, ow), (sh, sw), (dh, dw) = out_size, stride, dilation
    return (slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def _im2col_ref(xp, x, kernel, stride, padding, dilation):
    n, c, h, w = x.shape
    (kh, kw), (ph, pw) = kernel, padding
    out_size = conv_output_size("im2col", (h, w), kernel, stride, padding, dilation)
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = xp.empty((n, c, kh, kw) + out_size, dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, cols = _window_slices(i, j, out_size, stride, dilation)
            col[:, :, i, j] = padded[:, :, rows, cols]
    return col.reshape(n, c * kh * kw, out_size[0] * out_size[1])


def _col2im_ref(xp, col, size, kernel, stride, padding, dilation):
    (kh, kw), (ph, pw), (h, w) = kernel, padding, size
    n, c = col.shape[0], col.shape[1] // (kh * kw)
    out_size = conv_output_size("col2im", size, kernel, stride, padding, dilation)
    col = col.reshape((n, c, kh, kw) + out_size)
    padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, cols = _window_slices(i, j, out_size, stride, dilation)
            padded[:, :, rows, cols] += col[:, :, i, j]  # one tap's positions never repeat
    return xp.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + w])


def _im2col(x, geometry):
    return dispatch(x, ref=_im2col_ref, native="im2col", **geometry)


def _col2im(col, size, geometry):
    return dispatch(col, ref=_col2im_ref, native="col2im",
                    size=tuple(size), **geometry)


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Patches of a batch of images as columns, on raw arrays.

    x: (N, C, H, W) -> (N, C*KH*KW, OH*OW) with row (c*KH + i)*KW + j holding
    x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw] at column oh*OW + ow; zero padding.
    """
    geometry = _geometry("im2col", kernel_size, stride, padding, dilation, 2)
    if x.ndim != 4:
        raise ValueError(f"im2col: expected x of shape (N, C, H, W), got {x.shape}")
    conv_output_size("im2col", x.shape[2:], **geometry)
    return _im2col(x, geometry)


def col2im(col, input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The adjoint of ``im2col``: (N, C*KH*KW, OH*OW) -> (N, C, H, W) with (H, W) = input_size,
    each column scattered back to its window and overlapping windows summed."""
    geometry = _geometry("col2im", kernel_size, stride, padding, dilation, 2)
    size = ntuple("col2im", "input_size", input_size, 2, 1)
    kh, kw = geometry["kernel"]
    out = conv_output_size("col2im", size, **geometry)
    if col.ndim != 3 or col.shape[1] % (kh * kw) or col.shape[2] != out[0] * out[1]:
        raise ValueError(f"col2im: expected col of shape (N, C*{kh}*{kw}, {out[0]}*{out[1]}) "
                         f"for input size {size}, got {col.shape}")
    return _col2im(col, size, geometry)


def im2col1d(x, kernel_size, stride=1, padding=0, dilation=1):
    """1-D ``im2col``: x (N, C, L) -> (N, C*K, OL)."""
    if x.ndim != 3:
        raise ValueError(f"im2col1d: expected x of shape (N, C, L), got {x.shape}")
    return im2col(x[:, :, None, :], *_as_2d(kernel_size, stride, padding, dilation))


def col2im1d(col, input_size, kernel_size, stride=1, padding=0, dilation=1):
    """1-D ``col2im``: (N, C*K, OL) -> (N, C, L) with L = input_size."""
    length = input_size if isinstance(input_size, (int, np.integer)) else input_size[0]
    x = col2im(col, (1, length), *_as_2d(kernel_size, stride, padding, dilation))
    return x[:, :, 0, :]


def _as_2d(kernel_size, stride, padding, dilation):
    """1-D arguments as 2-D ones with a unit height."""
    first = lambda v: v if isinstance(v, (int, np.integer)) else v[0]  # noqa: E731
    return (1, first(kernel_size)), (1, first(stride)), (0, first(padding)), (1, first(dilation))


def as_2d_geometry(geometry):
    """A 1-D geometry as the 2-D one of a unit-height image and kernel."""
    return {k: ((0,) if k == "padding" else (1,)) + v for k, v in geometry.items()}


def kernel_params(geometry, groups):
    """The keyword arguments of the convolution kernels (the kernel size is the weight's)."""
    return dict(stride=geometry["stride"], padding=geometry["padding"],
                dilation=geometry["dilation"], groups=int(groups))


def _geometry(op, kernel_size, stride, padding, dilation, n):
    return dict(kernel=ntuple(op, "kernel_size", kernel_size, n, 1),
                stride=ntuple(op, "stride", stride, n, 1),
                padding=ntuple(op, "padding", padding, n, 0),
                dilation=ntuple(op, "dilation", dilation, n, 1))


def _kernel_geometry(weight, stride, padding, dilation):
    """The im2col geometry of a convolution with this weight (O, C/G, KH, KW)."""
    return dict(kernel=tuple(weight.shape[2:]), stride=stride, padding=padding, dilation=dilation)


def _grouped(xp, a, groups):
    """(N, C, H, W) -> (N, G, C/G, H*W), contiguous: a broadcast gradient (from sum()) has zero
    strides, and numpy's matmul would skip BLAS on it."""
    n, c, h, w = a.shape
    return xp.ascontiguousarray(a).reshape(n, groups, c // groups, h * w)


def _weight_blocks(weight, groups):
    """(O, C/G, KH, KW) -> (G, O/G, C/G*KH*KW); explicit sizes, as any of them may be 0."""
    o, cg, kh, kw = weight.shape
    return weight.reshape(groups, o // groups, cg * kh * kw)


def _columns(x, geometry, groups):
    """im2col(x) as (N, G, R, OH*OW): each group's column matrix, R = C/G*KH*KW."""
    col = _im2col(x, geometry)
    return col.reshape(col.shape[0], groups, col.shape[1] // groups, col.shape[2])


def _conv2d_fwd_ref(xp, x, weight, bias, *, stride, padding, dilation, groups):
    """y = W @ im2col(x) + b: x (N, C, H, W), weight (O, C/G, KH, KW) -> (N, O, OH, OW)."""
    geometry = _kernel_geometry(weight, stride, padding, dilation)
    out_size = conv_output_size("conv2d", x.shape[2:], **geometry)
    y = grouped_matmul(_weight_blocks(weight, groups), _columns(x, geometry, groups))
    y = y.reshape((x.shape[0], weight.shape[0]) + out_size)
    if bias is not None:
        y += bias.reshape(-1, 1, 1)
    return y


def _conv2d_bwd_input_ref(xp, gy, weight, bias, *, size, stride, padding, dilation, groups):
    """col2im(W^T @ gy) + bias per channel: gy (N, O, OH, OW) -> (N, C, H, W) with (H, W) =
    size; conv2d's input gradient, and conv_transpose2d's forward."""
    geometry = _kernel_geometry(weight, stride, padding, dilation)
    gcol = grouped_matmul(_weight_blocks(weight, groups).transpose(0, 2, 1),
                          _grouped(xp, gy, groups))
    gx = _col2im(gcol.reshape(gy.shape[0], gcol.shape[1] * gcol.shape[2], gcol.shape[3]),
                 tuple(size), geometry)
    if bias is not None:
        gx += bias.reshape(-1, 1, 1)
    return gx


def _conv2d_bwd_ref(xp, x, weight, gy, *, stride, padding, dilation, groups, input_grad,
                    bias_grad):
    """(gx or None, gw, gb or None) of y = conv2d(x, weight) + b for the output gradient gy."""
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    col = _columns(x, _kernel_geometry(weight, stride, padding, dilation), groups)
    gw = weight_gradient(_grouped(xp, gy, groups), col).reshape(weight.shape)
    gx = (_conv2d_bwd_input_ref(xp, gy, weight, None, size=x.shape[2:], **params)
          if input_grad else None)
    return gx, gw, gy.sum(axis=(0, 2, 3)) if bias_grad else None


class Conv2d(Function):
    """y = W * x + b over (N, C, H, W) with weight (O, C/groups, KH, KW) and bias (O,).

    Saves x (not its columns) for the weight gradient: the backward rebuilds the columns one
    image at a time, which costs less than keeping the whole batch's im2col alive."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, params):
        # gpu=False: on CuPy the reference is the fast path (CUDA im2col/col2im and cuBLAS)
        y = dispatch(x, weight, bias, ref=_conv2d_fwd_ref, native="conv2d_fwd", gpu=False,
                     **params)
        ctx.save_for_backward(weight, x if ctx.needs_input_grad[1] else None)
        ctx.params, ctx.x_size = params, x.shape[2:]
        return y

    @staticmethod
    def backward(ctx, gy):
        weight, x = ctx.saved_tensors
        needs = ctx.needs_input_grad
        bias_grad = needs[2:] == (True,)
        if needs[1]:  # one pass over the batch for every gradient
            gx, gw, gb = dispatch(x, weight, gy, ref=_conv2d_bwd_ref, native="conv2d_bwd",
                                  gpu=False, input_grad=needs[0], bias_grad=bias_grad,
                                  **ctx.params)
        else:
            gx = dispatch(gy, weight, None, ref=_conv2d_bwd_input_ref, native="conv2d_bwd_input",
                          gpu=False, size=ctx.x_size, **ctx.params) if needs[0] else None
            gw, gb = None, gy.sum(axis=(0, 2, 3)) if bias_grad else None
        return (gx, gw, gb)[:len(needs)]


def grouped_matmul(w, x):
    """w[g] @ x[n, g] for w (G, O, R) and x (N, G, R, L) -> (N, G, O, L).

    On the CPU it is one GEMM per group over the batch-and-position axis (R, N*L): numpy's matmul
    with w broadcast over N runs its own loop instead of BLAS, 10-20x slower at MNIST's conv
    shapes (256 x 50 x 180 @ 180 x 196). cupy's batched matmul is already one cuBLAS call."""
    xp = array_module(x)
    if xp is not np:
        return xp.matmul(w, x)
    n, g, r, length = x.shape
    out = np.empty((n, g, w.shape[1], length), dtype=np.result_type(w, x))
    for k in range(g):
        rows = x[:, k].transpose(1, 0, 2).reshape(r, n * length)
        out[:, k] = (w[k] @ rows).reshape(w.shape[1], n, length).transpose(1, 0, 2)
    return out


def weight_gradient(gy, col):
    """sum_n gy[n] @ col[n]^T: (N, G, O/G, L) x (N, G, R, L) -> (G, O/G, R), as N batched
    GEMMs summed over the batch (one GEMM over N*L would first need col transposed to
    (G, R, N*L), a copy of the largest array of the step)."""
    xp = array_module(gy)
    if gy.shape[0] == 1:
        return xp.matmul(gy[0], col[0].transpose(0, 2, 1))
    return xp.matmul(gy, col.transpose(0, 1, 3, 2)).sum(axis=0)


def _check_conv(op, x, weight, bias, groups, spatial):
    """Argument checks shared by the convolutions; returns x with a batch axis."""
    for name, t in (("input", x), ("weight", weight)) + ((("bias", bias),) if bias is not None
                                                         else ()):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got {t.dtype}")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(f"{op}: input, weight and bias must share a dtype, got {x.dtype}, "
                        f"{weight.dtype}" + (f", {bias.dtype}" if bias is not None else ""))
    if x.device != weight.device or (bias is not None and bias.device != x.device):
        raise RuntimeError(f"{op}: input, weight and bias must be on the same device")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if weight.ndim != spatial + 2:
        raise ValueError(f"{op}: expected a weight with {spatial + 2} dimensions, got shape "
                         f"{weight.shape}")
    if x.ndim == spatial + 1:  # unbatched input, as PyTorch accepts
        x = x.reshape((1,) + x.shape)
    if x.ndim != spatial + 2:
        raise ValueError(f"{op}: expected a {spatial + 2}-D (batched) or {spatial + 1}-D input, "
                         f"got shape {x.shape}")
    return x


def check_conv_args(op, spatial, input, weight, bias, groups):  # noqa: A002
    """All argument checks of a convolution; returns the input with a batch axis."""
    x = _check_conv(op, input, weight, bias, groups, spatial)
    o, cg = weight.shape[:2]
    if x.shape[1] != cg * groups or o % groups:
        raise ValueError(f"{op}: input {input.shape} with groups={groups} does not match weight "
                         f"{weight.shape}: expected input channels = {cg} * {groups} and output "
                         f"channels divisible by {groups}")
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{op}: expected bias of shape ({o},), got {bias.shape}")
    return x


def string_padding(op, x, padding, kernel, stride, dilation, spatial):
    """PyTorch's padding='valid' (none) and 'same' (output size = input size; stride 1): the
    symmetric part of each axis's total d (k - 1) becomes conv padding, and an odd total's extra
    zero is padded into x on the right, as PyTorch does. Returns (x, padding)."""
    if padding == "valid":
        return x, 0
    if padding != "same":
        raise ValueError(f"{op}: padding must be an int, a tuple of ints, 'valid' or 'same', got "
                         f"{padding!r}")
    if ntuple(op, "stride", stride, spatial, 1) != (1,) * spatial:
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions, got "
                         f"stride {stride!r}")
    totals = [d * (k - 1) for d, k in
              zip(ntuple(op, "dilation", dilation, spatial, 1), kernel)]
    extra = [t % 2 for t in totals]
    if any(extra):
        x = pad(x, tuple(v for e in reversed(extra) for v in (0, e)))
    return x, tuple(t // 2 for t in totals)


def _conv(op, spatial, input, weight, bias, stride, padding, dilation, groups):  # noqa: A002
    """Checks, then Conv2d on (N, C, H, W); 1-D convolutions run with a unit height."""
    x = check_conv_args(op, spatial, input, weight, bias, groups)
    if isinstance(padding, str):
        x, padding = string_padding(op, x, padding, weight.shape[2:], stride, dilation, spatial)
    geometry = _geometry(op, weight.shape[2:], stride, padding, dilation, spatial)
    conv_output_size(op, x.shape[2:], **geometry)
    if spatial == 1:
        geometry = as_2d_geometry(geometry)
        x = x.reshape(x.shape[:2] + (1, x.shape[2]))
        weight = weight.reshape(weight.shape[:2] + (1, weight.shape[2]))
    inputs = (x, weight) if bias is None else (x, weight, bias)
    y = Conv2d.apply(*inputs, params=kernel_params(geometry, groups))
    shape = y.shape[:2] + y.shape[4 - spatial:]
    return y.reshape(shape if input.ndim == spatial + 2 else shape[1:])


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution (cross-correlation, as in PyTorch).

    y[n, o] = b[o] + sum_{c, i, j} W[o, c, i, j] x_padded[n, g*C/G + c, oh*s + i*d, ow*s + j*d]
    with o in group g. input (N, C, H, W) or (C, H, W); weight (O, C/groups, KH, KW); bias (O,);
    output (N, O, OH, OW) with OH = (H + 2 padding - dilation (KH - 1) - 1) // stride + 1.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D convolution: input (N, C, L) or (C, L); weight (O, C/groups, K); bias (O,);
    output (N, O, OL), OL = (L + 2 padding - dilation (K - 1) - 1) // stride + 1."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


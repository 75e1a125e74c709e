"""Image patches and blocks: ``unfold``/``fold`` (sliding windows as columns and back) and
``pixel_shuffle``/``pixel_unshuffle`` (channels to space and back).

unfold is the convolution's im2col and fold its adjoint col2im, so both run on the compiled
kernels of ``ops.conv`` (each the other's backward); the pixel shuffles are a reshape, a
permutation and a reshape.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .conv import col2im, conv_output_size, im2col, ntuple

__all__ = ["unfold", "fold", "pixel_shuffle", "pixel_unshuffle"]


class Unfold(Function):
    """col = im2col(x): (N, C, H, W) -> (N, C*KH*KW, L); backward col2im."""

    @staticmethod
    def forward(ctx, x, *, geometry):
        ctx.size, ctx.geometry = x.shape[2:], geometry
        return im2col(x, **geometry)

    @staticmethod
    def backward(ctx, gcol):
        return col2im(gcol, ctx.size, **ctx.geometry)


class Fold(Function):
    """x = col2im(col) (overlaps summed): (N, C*KH*KW, L) -> (N, C, H, W); backward im2col."""

    @staticmethod
    def forward(ctx, col, *, size, geometry):
        ctx.geometry = geometry
        return col2im(col, size, **geometry)

    @staticmethod
    def backward(ctx, gx):
        return im2col(gx, **ctx.geometry)


def _geometry(op, kernel_size, dilation, padding, stride):
    return dict(kernel_size=ntuple(op, "kernel_size", kernel_size, 2, 1),
                dilation=ntuple(op, "dilation", dilation, 2, 1),
                padding=ntuple(op, "padding", padding, 2, 0),
                stride=ntuple(op, "stride", stride, 2, 1))


def _check(op, x, ndims, expected, floating=True):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if floating and x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    if x.ndim not in ndims:
        raise ValueError(f"{op}: expected a {expected} input, got shape {x.shape}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Sliding KH x KW blocks of input (N, C, H, W) (or unbatched (C, H, W)) as columns:
    (N, C*KH*KW, L), L = OH * OW the number of block positions (zero padding); row
    (c*KH + i)*KW + j holds tap (i, j) of channel c, as ``torch.nn.functional.unfold``."""
    _check("unfold", input, (3, 4), "3-D or 4-D")
    g = _geometry("unfold", kernel_size, dilation, padding, stride)
    x = input if input.ndim == 4 else input.reshape((1,) + input.shape)
    conv_output_size("unfold", x.shape[2:], g["kernel_size"], g["stride"], g["padding"],
                     g["dilation"])
    y = Unfold.apply(x, geometry=g)
    return y if input.ndim == 4 else y.reshape(y.shape[1:])


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """The adjoint of ``unfold``: columns (N, C*KH*KW, L) (or (C*KH*KW, L)) summed back into
    (N, C, H, W) with (H, W) = output_size; overlapping blocks add up."""
    _check("fold", input, (2, 3), "2-D or 3-D")
    g = _geometry("fold", kernel_size, dilation, padding, stride)
    size = ntuple("fold", "output_size", output_size, 2, 1)
    col = input if input.ndim == 3 else input.reshape((1,) + input.shape)
    kh, kw = g["kernel_size"]
    blocks = conv_output_size("fold", size, g["kernel_size"], g["stride"], g["padding"],
                              g["dilation"])
    if col.shape[1] % (kh * kw) or col.shape[2] != blocks[0] * blocks[1]:
        raise ValueError(f"fold: expected input of shape (N, C*{kh}*{kw}, {blocks[0] * blocks[1]}"
                         f") for output_size {size} and kernel {g['kernel_size']}, got "
                         f"{input.shape}")
    y = Fold.apply(col, size=size, geometry=g)
    return y if input.ndim == 3 else y.reshape(y.shape[1:])


def _factor(op, name, value):
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input, upscale_factor):  # noqa: A002
    """(*, C r^2, H, W) -> (*, C, H r, W r): y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]."""
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    _check("pixel_shuffle", input, range(3, 33), "3-D or higher", floating=False)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: the channels {c} of input {input.shape} must be "
                         f"divisible by upscale_factor^2 = {r * r}")
    k = len(lead)
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):  # noqa: A002
    """The inverse of ``pixel_shuffle``: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    _check("pixel_unshuffle", input, range(3, 33), "3-D or higher", floating=False)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: the spatial size ({h}, {w}) of input {input.shape} "
                         f"must be divisible by downscale_factor {r}")
    k = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)

"""``interpolate``: nearest, nearest-exact, (bi/tri)linear, bicubic and area resampling of
(N, C, *spatial).

Nearest, linear and bicubic resampling are separable: each spatial axis in turn is resampled
at the source positions PyTorch computes, one tap (nearest), two (linear) or four (bicubic)
weighted neighbours per output, by ``padding.resample_along`` (a compiled kernel with its NumPy
reference); 'area' is adaptive average pooling.
"""
import math

import numpy as np

from ..tensor import Tensor
from .padding import resample_along
from .pool import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["interpolate"]

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_INTERPOLATING = dict(_LINEAR, bicubic=2)  # mode -> spatial dims; these take align_corners
_MODES = ("nearest", "nearest-exact", "area") + tuple(_INTERPOLATING)
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution coefficient


def _nearest_index(in_size, out_size, scale, exact):
    """PyTorch's nearest source index, computed in float32 as its kernels do."""
    dst = np.arange(out_size, dtype=np.float32)
    src = np.floor((dst + np.float32(0.5 if exact else 0)) * np.float32(scale)).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _linear_taps(in_size, out_size, scale, align_corners):
    """The two neighbours of each output position and their weights (PyTorch's source index:
    (dst + 0.5) scale - 0.5 clamped at 0, or dst (in - 1) / (out - 1) with align_corners)."""
    src = _source_position(in_size, out_size, scale, align_corners, clamp=True)
    lo = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = src - lo
    return lo, hi, 1.0 - frac, frac


def _source_position(in_size, out_size, scale, align_corners, clamp):
    """PyTorch's source coordinate of each output position: dst (in - 1) / (out - 1) with
    align_corners, else (dst + 0.5) scale - 0.5 (clamped at 0 for the linear modes)."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        return dst * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    src = (dst + 0.5) * scale - 0.5
    return np.maximum(src, 0.0) if clamp else src


def _cubic_taps(in_size, out_size, scale, align_corners):
    """The four neighbours floor(src) - 1 .. floor(src) + 2 (clamped to the edge) and Keys'
    cubic convolution weights with a = -0.75, as PyTorch's bicubic."""
    src = _source_position(in_size, out_size, scale, align_corners, clamp=False)
    base = np.floor(src)
    t = src - base
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    index = np.clip(base.astype(np.int64) + np.arange(-1, 3)[:, None], 0, in_size - 1)
    return index, np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)])


def _sizes(op, x, size, scale_factor, spatial):
    """Output sizes and the scale each axis's source index uses (1 / scale_factor when given, as
    PyTorch does unless recompute_scale_factor)."""
    in_sizes = x.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * spatial
        if len(sizes) != spatial or not all(isinstance(s, (int, np.integer)) and s >= 1
                                            for s in sizes):
            raise ValueError(f"{op}: size must be a positive int or {spatial} of them for input "
                             f"{x.shape}, got {size!r}")
        return sizes, [n / s for n, s in zip(in_sizes, sizes)]
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
        (scale_factor,) * spatial
    if len(factors) != spatial or not all(f > 0 for f in factors):
        raise ValueError(f"{op}: scale_factor must be a positive number or {spatial} of them for "
                         f"input {x.shape}, got {scale_factor!r}")
    sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, factors))
    if min(sizes) < 1:
        raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output {sizes} for "
                         f"input {x.shape}")
    return sizes, [1.0 / f for f in factors]


def interpolate(input, size=None, scale_factor=None, mode="nearest",  # noqa: A002
                align_corners=None, recompute_scale_factor=None, antialias=False):
    """Resample the spatial axes of input (N, C, L), (N, C, H, W) or (N, C, D, H, W), as
    ``torch.nn.functional.interpolate``.

    size or scale_factor (exactly one) gives the output sizes, floor(in * scale_factor).
    'nearest': src = floor(dst * scale); 'nearest-exact': floor((dst + 0.5) * scale);
    'linear'/'bilinear'/'trilinear' (3-, 4-, 5-D): a blend of the neighbours of
    src = (dst + 0.5) * scale - 0.5, or dst (in - 1) / (out - 1) with ``align_corners``;
    'bicubic' (4-D): cubic convolution (a = -0.75) of the 4 neighbours of src along each axis,
    edge-clamped; 'area' (3-, 4-D): adaptive average pooling. ``antialias`` (a filter for downsampling) is
    not implemented.
    """
    op = f"interpolate(mode={mode!r})"
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {_MODES}, got {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype}")
    spatial = input.ndim - 2
    if spatial not in (1, 2, 3) or min(input.shape[2:]) < 1:
        raise ValueError(f"{op}: expected a 3-D, 4-D or 5-D input (N, C, *spatial) with "
                         f"non-empty spatial axes, got shape {input.shape}")
    if mode in _INTERPOLATING and _INTERPOLATING[mode] != spatial:
        raise ValueError(f"{op}: expects a {_INTERPOLATING[mode] + 2}-D input, got shape "
                         f"{input.shape}")
    if align_corners is not None and mode not in _INTERPOLATING:
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes "
                         f"{tuple(_INTERPOLATING)}")
    sizes, scales = _sizes(op, input, size, scale_factor, spatial)
    if recompute_scale_factor:
        scales = [n / s for n, s in zip(input.shape[2:], sizes)]
    if mode == "area":
        if spatial == 3:
            raise ValueError(f"{op}: 5-D inputs are not supported (adaptive 3-D pooling is "
                             f"missing)")
        return (adaptive_avg_pool1d if spatial == 1 else adaptive_avg_pool2d)(
            input, sizes[0] if spatial == 1 else sizes)
    y = input
    for k, (n, out, scale) in enumerate(zip(input.shape[2:], sizes, scales)):
        axis = 2 + k
        if mode == "bicubic":
            y = resample_along(y, axis, *_cubic_taps(n, out, scale, bool(align_corners)))
        elif mode in _LINEAR:
            lo, hi, w_lo, w_hi = _linear_taps(n, out, scale, bool(align_corners))
            y = resample_along(y, axis, np.stack([lo, hi]), np.stack([w_lo, w_hi]))
        else:
            y = resample_along(y, axis, _nearest_index(n, out, scale, mode == "nearest-exact"))
    return y

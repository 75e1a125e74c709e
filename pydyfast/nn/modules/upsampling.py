"""Resampling layers: Upsample (and its nearest/bilinear shorthands), PixelShuffle,
PixelUnshuffle, Unfold and Fold, over the functions of ``nn.functional``."""
from .. import functional as F
from .module import Module


class Upsample(Module):
    """``F.interpolate`` with the options fixed at construction."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input):  # noqa: A002
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        which = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                 else f"size={self.size!r}")
        return f"{which}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest 2-D upsampling (PyTorch's legacy shorthand)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-D upsampling with align_corners=True (PyTorch's legacy shorthand)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


class _Shuffle(Module):
    """A pixel (un)shuffle by the integer factor named ``factor_name``."""

    factor_name, function = None, None

    def __init__(self, factor):
        super().__init__()
        setattr(self, self.factor_name, factor)

    def forward(self, input):  # noqa: A002
        return type(self).function(input, getattr(self, self.factor_name))

    def extra_repr(self):
        return f"{self.factor_name}={getattr(self, self.factor_name)}"


class PixelShuffle(_Shuffle):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    factor_name, function = "upscale_factor", staticmethod(F.pixel_shuffle)


class PixelUnshuffle(_Shuffle):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    factor_name, function = "downscale_factor", staticmethod(F.pixel_unshuffle)


class Unfold(Module):
    """Sliding blocks as columns: (N, C, H, W) -> (N, C*KH*KW, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input):  # noqa: A002
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Unfold):
    """Columns summed back into images: (N, C*KH*KW, L) -> (N, C, *output_size)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):  # noqa: A002
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, " + super().extra_repr()

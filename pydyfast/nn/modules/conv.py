"""Conv1d, Conv2d, Conv3d and ConvTranspose2d layers (PyTorch's weight layouts, bias (C_out,),
init, padding='same'/'valid' and padding_mode)."""
import math

from ...ops.conv import ntuple
from .. import functional as F
from ._params import factory_kwargs, fan_in_bias, kaiming_weight
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared body. weight (C_out, C_in/groups, *kernel) for convolutions and
    (C_in, C_out/groups, *kernel) for transposed ones; both ~ kaiming_uniform(a=sqrt 5) and
    bias (C_out,) ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = weight.shape[1] * prod(kernel)."""

    transposed = False
    spatial = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self.spatial
        factory = factory_kwargs(name, device, dtype)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES or (self.transposed and padding_mode != "zeros"):
            raise ValueError(f"{name}: padding_mode must be one of "
                             f"{_PADDING_MODES if not self.transposed else ('zeros',)}, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, n, 1)
        self.stride = ntuple(name, "stride", stride, n, 1)
        self.dilation = ntuple(name, "dilation", dilation, n, 1)
        self.padding = self._resolve_padding(name, padding)
        rows, cols = ((in_channels, out_channels // groups) if self.transposed
                      else (out_channels, in_channels // groups))
        fan_in = cols * math.prod(self.kernel_size)
        self.weight = kaiming_weight(rows, cols, *self.kernel_size, **factory)
        self.register_parameter("bias", fan_in_bias(out_channels, fan_in, **factory)
                                if bias else None)

    def _resolve_padding(self, name, padding):
        """Padding as a tuple of ints, or PyTorch's 'valid' / 'same' kept as the string (the
        functional resolves them; 'same' with an even span pads one more zero on the right)."""
        if padding in ("valid", "same"):
            if self.transposed or (padding == "same" and any(s != 1 for s in self.stride)):
                raise ValueError(f"{name}: padding={padding!r} needs stride 1 and a "
                                 f"non-transposed convolution, got stride {self.stride}")
            return padding
        return ntuple(name, "padding", padding, self.spatial, 0)

    def _conv_input(self, input):  # noqa: A002
        """(input, padding for the functional): with a padding_mode other than zeros the input
        is padded here (reflect/replicate/circular) and the convolution pads nothing."""
        if self.padding_mode == "zeros":
            return input, self.padding
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(0, 0) if self.padding == "valid" else (p, p) for p in self.padding]
        flat = tuple(v for pair in reversed(pairs) for v in pair)
        return (F.pad(input, flat, mode=self.padding_mode) if any(flat) else input), 0

    def _forward(self, conv, input):  # noqa: A002
        x, padding = self._conv_input(input)
        return conv(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv1d(_ConvNd):
    """1-D convolution: (N, C_in, L) -> (N, C_out, L_out), weight (C_out, C_in/groups, K)."""

    spatial = 1

    def forward(self, input):  # noqa: A002
        return self._forward(F.conv1d, input)


class Conv2d(_ConvNd):
    """2-D convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    weight (C_out, C_in/groups, KH, KW)."""

    def forward(self, input):  # noqa: A002
        return self._forward(F.conv2d, input)


class Conv3d(_ConvNd):
    """3-D convolution: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
    weight (C_out, C_in/groups, KD, KH, KW)."""

    spatial = 3

    def forward(self, input):  # noqa: A002
        return self._forward(F.conv3d, input)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out) with
    H_out = (H - 1) stride - 2 padding + dilation (KH - 1) + output_padding + 1;
    weight (C_in, C_out/groups, KH, KW)."""

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.output_padding = ntuple("ConvTranspose2d", "output_padding", output_padding, 2, 0)

    def forward(self, input):  # noqa: A002
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)

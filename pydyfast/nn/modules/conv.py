"""Conv1d, Conv2d and ConvTranspose2d layers (PyTorch's weight layouts, bias (C_out,), init)."""
import math

from ...ops.conv import ntuple
from .. import functional as F
from ._params import factory_kwargs, fan_in_bias, kaiming_weight
from .module import Module


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
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
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
        """Padding as a tuple; 'valid' is 0 and 'same' keeps the size (stride 1, odd span)."""
        if padding == "valid":
            return (0,) * self.spatial
        if padding == "same":
            spans = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            if self.transposed or any(s != 1 for s in self.stride) or any(s % 2 for s in spans):
                raise ValueError(f"{name}: padding='same' needs stride 1 and an even "
                                 f"dilation * (kernel_size - 1), got stride {self.stride}, "
                                 f"kernel_size {self.kernel_size}, dilation {self.dilation}")
            return tuple(s // 2 for s in spans)
        return ntuple(name, "padding", padding, self.spatial, 0)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv1d(_ConvNd):
    """1-D convolution: (N, C_in, L) -> (N, C_out, L_out), weight (C_out, C_in/groups, K)."""

    spatial = 1

    def forward(self, input):  # noqa: A002
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class Conv2d(_ConvNd):
    """2-D convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    weight (C_out, C_in/groups, KH, KW)."""

    def forward(self, input):  # noqa: A002
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


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

"""LayerNorm, RMSNorm and GroupNorm: per-sample normalization, no running statistics."""
import numbers

from .. import functional as F
from ._params import factory_kwargs, ones_parameter, zeros_parameter
from .module import Module


def _shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the trailing ``normalized_shape``
    axes. weight (ones) and bias (zeros) have shape ``normalized_shape``; no running stats."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        factory = factory_kwargs("LayerNorm", device, dtype)
        self.normalized_shape, self.eps = _shape(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", ones_parameter(self.normalized_shape, **factory)
                                if elementwise_affine else None)
        self.register_parameter("bias", zeros_parameter(self.normalized_shape, **factory)
                                if elementwise_affine and bias else None)

    def forward(self, input):  # noqa: A002
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class RMSNorm(Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape`` axes;
    eps=None uses the dtype's machine epsilon (PyTorch's default)."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        factory = factory_kwargs("RMSNorm", device, dtype)
        self.normalized_shape, self.eps = _shape(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", ones_parameter(self.normalized_shape, **factory)
                                if elementwise_affine else None)

    def forward(self, input):  # noqa: A002
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalize each of ``num_groups`` channel groups per sample; input (N, C, *),
    weight (ones) and bias (zeros) of shape (C,)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        factory = factory_kwargs("GroupNorm", device, dtype)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        self.register_parameter("weight", ones_parameter(num_channels, **factory)
                                if affine else None)
        self.register_parameter("bias", zeros_parameter(num_channels, **factory)
                                if affine else None)

    def forward(self, input):  # noqa: A002
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"

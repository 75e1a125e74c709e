"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, MaxUnpool1d/2d (no
parameters)."""
from .. import functional as F
from .module import Module


class _Pool(Module):
    """Stores its options (PyTorch's names and defaults) and passes them to ``function``."""

    options = ()

    def __init__(self, *args, **kwargs):
        super().__init__()
        name = type(self).__name__
        if len(args) > len(self.options):
            raise TypeError(f"{name}: takes at most {len(self.options)} arguments, got "
                            f"{len(args)}")
        values = dict(self.options)
        values.update(zip((k for k, _ in self.options), args))
        unknown = set(kwargs) - set(values)
        if unknown:
            raise TypeError(f"{name}: unexpected arguments {sorted(unknown)}")
        values.update(kwargs)
        missing = [k for k, default in self.options
                   if default is None and k != "stride" and values[k] is None]
        if missing:
            raise TypeError(f"{name}: missing required argument(s) {missing}")
        for k, v in values.items():
            object.__setattr__(self, k, v)

    def forward(self, input):  # noqa: A002
        return type(self).function(input, **{k: getattr(self, k) for k, _ in self.options})

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)}" for k, _ in self.options)


_MAX = (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1),
        ("return_indices", False), ("ceil_mode", False))
_AVG = (("kernel_size", None), ("stride", None), ("padding", 0), ("ceil_mode", False),
        ("count_include_pad", True))


class MaxPool1d(_Pool):
    """Max over windows along L: (N, C, L) -> (N, C, L_out)."""
    options, function = _MAX, staticmethod(F.max_pool1d)


class MaxPool2d(_Pool):
    """Max over KH x KW windows: (N, C, H, W) -> (N, C, H_out, W_out)."""
    options, function = _MAX, staticmethod(F.max_pool2d)


class AvgPool1d(_Pool):
    """Mean over windows along L: (N, C, L) -> (N, C, L_out)."""
    options, function = _AVG, staticmethod(F.avg_pool1d)


class AvgPool2d(_Pool):
    """Mean over KH x KW windows: (N, C, H, W) -> (N, C, H_out, W_out)."""
    options, function = _AVG, staticmethod(F.avg_pool2d)


class AdaptiveAvgPool1d(_Pool):
    """Mean over adaptive bins: (N, C, L) -> (N, C, output_size)."""
    options, function = (("output_size", None),), staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_Pool):
    """Mean over adaptive bins: (N, C, H, W) -> (N, C, *output_size)."""
    options, function = (("output_size", None),), staticmethod(F.adaptive_avg_pool2d)


class _MaxUnpool(_Pool):
    """The partial inverse of max pooling; forward takes the pool's indices and optionally the
    output size."""

    options = (("kernel_size", None), ("stride", None), ("padding", 0))

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return type(self).function(input, indices, self.kernel_size, self.stride, self.padding,
                                   output_size)


class MaxUnpool1d(_MaxUnpool):
    """(N, C, L) and MaxPool1d's indices -> (N, C, (L - 1) stride - 2 padding + K)."""
    function = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpool):
    """(N, C, H, W) and MaxPool2d's indices -> (N, C, (H - 1) stride - 2 padding + KH, ...)."""
    function = staticmethod(F.max_unpool2d)

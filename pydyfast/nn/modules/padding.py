"""Padding layers (PyTorch's names): ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and
CircularPad in 1-D, 2-D and 3-D, over ``nn.functional.pad``."""
from ...ops.conv import ntuple
from .. import functional as F
from .module import Module

__all__ = [f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                         "Circular") for n in (1, 2, 3)]


class _PadNd(Module):
    """padding: an int (every side) or 2 * spatial ints (left, right, top, bottom, front,
    back), as ``F.pad`` orders them."""

    mode = "constant"
    spatial = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        name = type(self).__name__
        if isinstance(padding, int):
            padding = (padding,) * (2 * self.spatial)
        self.padding = ntuple(name, "padding", padding, 2 * self.spatial, -(2 ** 62))
        self.value = value

    def forward(self, input):  # noqa: A002
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if self.mode == "constant" else "")


def _padding_class(name, mode, spatial, constant=False):
    """A padding layer class; ConstantPad*d require ``value`` as PyTorch does, the others take
    only ``padding``."""
    doc = (f"{mode.capitalize()} padding of the last {spatial} dimension(s)"
           + (" with ``value``." if constant else "."))
    if constant:
        def __init__(self, padding, value):
            _PadNd.__init__(self, padding, value)
    else:
        def __init__(self, padding):
            _PadNd.__init__(self, padding)
    return type(name, (_PadNd,), {"mode": mode, "spatial": spatial, "__init__": __init__,
                                  "__doc__": doc})


ZeroPad1d, ZeroPad2d, ZeroPad3d = (_padding_class(f"ZeroPad{n}d", "constant", n)
                                   for n in (1, 2, 3))
ConstantPad1d, ConstantPad2d, ConstantPad3d = (
    _padding_class(f"ConstantPad{n}d", "constant", n, constant=True) for n in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (
    _padding_class(f"ReflectionPad{n}d", "reflect", n) for n in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (
    _padding_class(f"ReplicationPad{n}d", "replicate", n) for n in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (
    _padding_class(f"CircularPad{n}d", "circular", n) for n in (1, 2, 3))

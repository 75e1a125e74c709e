"""Dropout: random zeroing in training mode, the identity in eval mode."""
from .. import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability p while training, scaling the rest by 1/(1-p)."""

    function = staticmethod(F.dropout)

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must lie in [0, 1], got {p}")
        self.p = p

    def forward(self, input):  # noqa: A002
        return type(self).function(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) with probability p while training."""

    function = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability p while training."""

    function = staticmethod(F.dropout2d)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) with probability p while training."""

    function = staticmethod(F.dropout3d)

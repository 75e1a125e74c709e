"""BatchNorm1d and BatchNorm2d: normalization with batch statistics and running estimates."""
import numpy as np

from .. import functional as F
from ._params import buffer, factory_kwargs, ones_parameter, zeros_parameter
from .module import Module


class _BatchNorm(Module):
    """Shared body; subclasses fix the accepted input ranks.

    Training normalizes with the batch mean and biased variance over every axis but channel
    axis 1, and updates running_mean / running_var (unbiased) with ``momentum`` (None: the
    cumulative average over num_batches_tracked). Eval mode uses the running estimates.
    Parameters weight (ones), bias (zeros), buffers running_mean (zeros), running_var (ones),
    num_batches_tracked (int64 scalar), all as in PyTorch's state dict.
    """

    ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        factory = factory_kwargs(type(self).__name__, device, dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", ones_parameter(num_features, **factory)
                                if affine else None)
        self.register_parameter("bias", zeros_parameter(num_features, **factory)
                                if affine else None)
        if track_running_stats:
            dtype, device = factory["dtype"], factory["device"]
            self.register_buffer("running_mean", buffer(np.zeros(num_features, dtype), device))
            self.register_buffer("running_var", buffer(np.ones(num_features, dtype), device))
            self.register_buffer("num_batches_tracked", buffer(np.array(0, np.int64), device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, input):  # noqa: A002
        if input.ndim not in self.ranks or input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected input of rank {self.ranks} with "
                             f"{self.num_features} channels at axis 1, got shape {input.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.data)
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input."""

    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input."""

    ranks = (4,)

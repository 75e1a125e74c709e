"""SyncBatchNorm: batch normalization with the statistics of the whole distributed batch."""
import numpy as np

from ... import autograd
from ... import functional as PF
from ...backend import array_module
from .batchnorm import _BatchNorm
from .module import Module


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, *) input whose training statistics are those of the batch summed
    over every rank of the default process group (``torch.nn.SyncBatchNorm``).

    mean = sum_ranks sum(x) / M, var = sum_ranks sum((x - mean)^2) / M with M the global count
    per channel (two all-reduces, differentiable: backward all-reduces their gradients, so
    every rank must run the same forward and backward). Eval mode, or no process group / one
    rank, is plain BatchNorm.
    """

    ranks = (2, 3, 4, 5)

    def forward(self, input):  # noqa: A002
        from ... import distributed as dist
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(input)
        if input.ndim not in self.ranks or input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected input (N, C, *) with {self.num_features} "
                             f"channels at axis 1, got shape {input.shape}")
        axes = (0,) + tuple(range(2, input.ndim))
        shape = (1, self.num_features) + (1,) * (input.ndim - 2)
        # ranks may hold different batch sizes, so the global count is reduced too
        count = array_module(input.data).asarray([input.data.size // self.num_features],
                                                 np.int64)
        dist.all_reduce(count)
        total = int(count[0])
        if total <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over all "
                             f"ranks when training, got {total}")
        mean = dist.nn.all_reduce(input.sum(dim=axes, keepdim=True)) / total
        centred = input - mean
        var = dist.nn.all_reduce((centred * centred).sum(dim=axes, keepdim=True)) / total
        out = centred / PF.sqrt(var + self.eps)
        if self.weight is not None:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.data.reshape(-1), var.data.reshape(-1), total)
        return out

    def _update_running_stats(self, mean, var, total):
        self.num_batches_tracked.data += 1
        momentum = (1.0 / int(self.num_batches_tracked.data) if self.momentum is None
                    else self.momentum)
        with autograd.no_grad():
            rm, rv = self.running_mean.data, self.running_var.data
            rm *= 1 - momentum
            rm += (momentum * mean).astype(rm.dtype)
            rv *= 1 - momentum
            rv += (momentum * var * total / (total - 1)).astype(rv.dtype)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Return ``module`` with every BatchNorm1d/2d (and subclasses) replaced by a
        SyncBatchNorm sharing its parameters and buffers; other modules are kept."""
        if process_group is not None:
            raise ValueError("convert_sync_batchnorm: only the default process group is "
                             "supported (process_group=None)")
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats)
            for table in ("_parameters", "_buffers"):
                getattr(sync, table).update(getattr(module, table))
            sync.train(module.training)
            return sync
        if isinstance(module, Module):
            for name, child in list(module._modules.items()):
                if child is not None:
                    module._modules[name] = cls.convert_sync_batchnorm(child)
        return module

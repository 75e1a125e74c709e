"""Differentiable collectives (``torch.distributed.nn.functional``), used by SyncBatchNorm.

``all_reduce`` (sum) forward and backward: y = sum over ranks of x, so the gradient of the sum
of every rank's loss with respect to this rank's x is the sum over ranks of the gradients
arriving at y. Every rank must run the same backward, so the calls match up.
"""
from ..ops.passthrough import Reduced
from .group import default_group
from .process_group import ReduceOp


def _sum_over_ranks(array):
    default_group(None, "all_reduce").all_reduce(array, ReduceOp.SUM).wait()


def all_reduce(tensor):
    """Sum of ``tensor`` over all ranks, differentiable (a new tensor; the input is kept)."""
    return Reduced.apply(tensor, reduce=_sum_over_ranks)

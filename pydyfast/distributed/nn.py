"""Differentiable collectives (``torch.distributed.nn.functional``), used by SyncBatchNorm.

``all_reduce`` (sum) forward and backward: y = sum over ranks of x, so the gradient of the sum
of every rank's loss with respect to this rank's x is the sum over ranks of the gradients
arriving at y. Every rank must run the same backward, so the calls match up.
"""
from ..autograd import Function
from .group import default_group
from .process_group import ReduceOp


class AllReduceSum(Function):
    """x (any shape) -> the sum of x over all ranks; backward sums the gradients likewise."""

    @staticmethod
    def forward(ctx, x):
        out = x.copy()
        default_group(None, "all_reduce").all_reduce(out, ReduceOp.SUM).wait()
        return out

    @staticmethod
    def backward(ctx, gy):
        g = gy.copy()
        default_group(None, "all_reduce (backward)").all_reduce(g, ReduceOp.SUM).wait()
        return g


def all_reduce(tensor):
    """Sum of ``tensor`` over all ranks, differentiable (a new tensor; the input is kept)."""
    return AllReduceSum.apply(tensor)

"""Loss Functions on raw arrays that are more than a composition of Tensor ops (the index
cross-entropy and nll_loss live with the softmax kernels in ``ops/softmax.py``). Public
wrappers, with their checks and reductions, live in ``pydyfast.nn.functional``.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module


class BinaryCrossEntropy(Function):
    """l = -(t log p + (1 - t) log(1 - p)), logs clamped at -100 as in PyTorch, so p = 0 or 1
    gives a finite loss; dl/dp = (p - t) / max(p (1 - p), 1e-12), dl/dt = log(1-p) - log(p)."""

    @staticmethod
    def forward(ctx, p, t):
        xp = array_module(p)
        with np.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100)
            log_q = xp.maximum(xp.log1p(-p), -100)
        ctx.save_for_backward(p, t, log_p, log_q)
        return -(t * log_p + (1 - t) * log_q)

    @staticmethod
    def backward(ctx, gy):
        p, t, log_p, log_q = ctx.saved_tensors
        xp = array_module(p)
        need_p, need_t = ctx.needs_input_grad
        gp = gy * (p - t) / xp.maximum(p * (1 - p), p.dtype.type(1e-12)) if need_p else None
        return gp, (gy * (log_q - log_p) if need_t else None)
